"""Call-flow diagrams: Mermaid flowcharts generated from the flows, one per flow file, for docs/call-flows.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from .flows import ENTRY_NODE, RETRY, Flow, Node, Target, load_flow

# This file lives in ivr/core/, so the project root is two folders up; computed here, not imported, so the
# pure core depends on no settings module.
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
FLOWS_DIR = PROJECT_ROOT / "flows"
DEFAULT_OUTPUT = PROJECT_ROOT / "docs" / "call-flows.md"

# Mermaid (opening, closing) brackets per node kind; unknown kinds fall back to a plain box.
SHAPES = {
    "say": ('["', '"]'),
    "action": ('["', '"]'),
    "menu": ('[/"', '"/]'),
    "input": ('[/"', '"/]'),
    "record": ('[/"', '"/]'),
    "branch": ('{"', '"}'),
    "transfer": ('[["', '"]]'),
    "queue": ('[["', '"]]'),
    "conference": ('[["', '"]]'),
    "hangup": ('(["', '"])'),
}
PLAIN = ('["', '"]')
# Kinds that can always fail (an unknown key, no representative free); input and record nodes fail only by
# re-asking (silence at an input, an action result mapped to @retry), as the engine does.
ALWAYS_FAIL = ("menu", "queue")
# Characters Mermaid would read as syntax (quotes, entity codes, markdown, HTML, edge-label pipes).
_ESCAPES = {'"': "#quot;", **{ch: f"#{ord(ch)};" for ch in "#*@<>&|`"}}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_]+")


class Edge(NamedTuple):
    """An arrow from a node to `target`, labelled with what leads there."""

    target: str
    label: str
    dashed: bool = False


def node_id(name: str) -> str:
    """A Mermaid id for a node name; the prefix keeps ids like `end` or `o...` from reading as syntax."""
    if _SAFE_NAME.fullmatch(name):
        return f"n_{name}"
    return "h_" + name.encode("utf-8").hex()  # a distinct prefix, so no safe name can collide with it


def escape(text: str) -> str:
    """Make text safe inside a quoted Mermaid label."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _lang_suffix(target: Target) -> str:
    """' → es' when following the target switches the caller's language."""
    return f" → {target.set_lang}" if target.set_lang else ""


def _option_edges(node: Node, flow: Flow) -> list[Edge]:
    """One edge per menu option, labelled with its keys; '(unlisted)' for keys accepted but never read out."""
    return [Edge(opt.target.node, opt.digits + (" (unlisted)" if opt.unlisted else "") + _lang_suffix(opt.target))
            for opt in node.options]


def _directory_edges(node: Node, flow: Flow) -> list[Edge]:
    """A directory menu's entries all lead to directory_next."""
    if node.directory and node.directory_next:
        return [Edge(node.directory_next, f"{node.directory} entry")]
    return []


def _silence_edges(node: Node, flow: Flow) -> list[Edge]:
    """Where silence leads, if not back to the same prompt."""
    if node.on_silence is None:
        return []
    return [Edge(node.on_silence.node, "silence" + _lang_suffix(node.on_silence))]


def _next_edges(node: Node, flow: Flow) -> list[Edge]:
    """A say node's next step."""
    return [Edge(node.next, "next")] if node.next else []


def _branch_edges(node: Node, flow: Flow) -> list[Edge]:
    """A branch's yes (condition true) and no arms."""
    edges = [Edge(node.then, f"yes: {node.when}")] if node.then else []
    return edges + ([Edge(node.otherwise, "no")] if node.otherwise else [])


def _result_edges(node: Node, flow: Flow) -> list[Edge]:
    """One edge per action result; @retry loops back to the node itself."""
    return [Edge(node.name if target == RETRY else target, result) for result, target in node.results.items()]


def _transfer_edges(node: Node, flow: Flow) -> list[Edge]:
    """Where a transfer goes when nobody answers, or after the conversation; a queue, when the caller leaves it."""
    edges = [Edge(node.on_no_answer, "no answer")] if node.on_no_answer else []
    edges += [Edge(node.on_leave, "left the line")] if node.on_leave else []
    return edges + ([Edge(node.on_answer, "answered")] if node.on_answer else [])


def _fail_edges(node: Node, flow: Flow) -> list[Edge]:
    """Where a caller goes after too many tries: the node's own on_fail, else the flow default (dashed)."""
    if node.on_fail:
        return [Edge(node.on_fail, "fail")]
    if _can_fail(node):
        return [Edge(flow.defaults.get("on_fail", ENTRY_NODE), "fail", dashed=True)]
    return []


def _can_fail(node: Node) -> bool:
    """True if the caller can run out of attempts here, so the flow-wide fallback applies."""
    if node.kind in ALWAYS_FAIL:
        return True
    retries = RETRY in node.results.values()
    silence_retries = node.kind == "input" and node.on_silence is None
    return node.kind in ("input", "record") and (retries or silence_retries)


# Edge order within a node: what the caller chooses first, then what happens without a choice.
EDGE_RULES = (_option_edges, _directory_edges, _silence_edges, _next_edges, _branch_edges, _result_edges,
              _transfer_edges, _fail_edges)


def node_edges(node: Node, flow: Flow) -> list[Edge]:
    """Every edge out of a node; edges to the same target in the same style share one arrow."""
    merged: dict[tuple[str, bool], list[str]] = {}
    for rule in EDGE_RULES:
        for edge in rule(node, flow):
            merged.setdefault((edge.target, edge.dashed), []).append(edge.label)
    return [Edge(target, ", ".join(labels), dashed) for (target, dashed), labels in merged.items()]


def _node_line(name: str, flow: Flow, source: str) -> str:
    """Declare a node with its kind's shape; nodes of another file say which file."""
    node = flow.nodes.get(name)
    if node is None:  # an unchecked flow may name a node that does not exist: show it rather than crash
        return f'    {node_id(name)}["{escape(name)}<br/>(missing)"]'
    title = name if node.source == source else f"{name} ({node.source})"
    opening, closing = SHAPES.get(node.kind, PLAIN)
    return f"    {node_id(name)}{opening}{escape(title)}<br/>{escape(node.kind)}{closing}"


def _edge_line(origin: str, edge: Edge) -> str:
    """One Mermaid arrow with its quoted label."""
    arrow = "-.->" if edge.dashed else "-->"
    return f'    {node_id(origin)} {arrow}|"{escape(edge.label)}"| {node_id(edge.target)}'


def sources(flow: Flow) -> list[str]:
    """The flow files, in the order their nodes were loaded."""
    return list(dict.fromkeys(node.source for node in flow.nodes.values()))


def diagram(flow: Flow, source: str) -> str:
    """The Mermaid flowchart of one flow file, with nodes of other files it leads to."""
    own = [node for node in flow.nodes.values() if node.source == source]
    edges = [(node.name, edge) for node in own for edge in node_edges(node, flow)]
    own_names = {node.name for node in own}
    foreign = list(dict.fromkeys(edge.target for _, edge in edges if edge.target not in own_names))
    lines = ["flowchart TD"]
    lines += [_node_line(name, flow, source) for name in [node.name for node in own] + foreign]
    lines += [_edge_line(origin, edge) for origin, edge in edges]
    lines += _class_lines("elsewhere", "stroke-dasharray: 5 5", foreign)
    lines += _class_lines("entry", "stroke-width: 3px", [ENTRY_NODE] if ENTRY_NODE in own_names else [])
    return "\n".join(lines) + "\n"


def _class_lines(name: str, style: str, members: list[str]) -> list[str]:
    """Style a group of nodes (none: no lines, so diagrams without such nodes stay short)."""
    if not members:
        return []
    return [f"    classDef {name} {style}", f"    class {','.join(node_id(member) for member in members)} {name}"]


def diagrams(flow: Flow) -> dict[str, str]:
    """One Mermaid flowchart per flow file, in file order."""
    return {source: diagram(flow, source) for source in sources(flow)}


INTRO = """\
<!-- Generated from flows/*.yaml by `ivr diagram`: do not edit by hand. -->
# Call flows

These diagrams show every step of a Hartford 311 call, one diagram per flow file. They are generated from
`flows/*.yaml` by `ivr diagram` and must not be edited by hand: change the flow files, then run `ivr diagram`
(the test suite fails while this file is out of date). Calls begin at `{entry}` (drawn with a thick border).

Shapes (each node shows its name and kind):

| Shape | Kinds | What happens |
|---|---|---|
| parallelogram `[/ /]` | `menu`, `input`, `record` | the line asks, then listens for keys, speech or a recording |
| diamond `{{ }}` | `branch` | a condition decides, without asking the caller |
| double-sided box `[[ ]]` | `transfer`, `queue`, `conference` | a department, a representative, or a three-way call |
| stadium `([ ])` | `hangup` | the call ends |
| box `[ ]` | `say`, `action` | the line speaks, or does something (take an answer, create a case) |

A node drawn with a dashed border lives in another flow file, named in brackets; it is shown so each diagram
stands alone.

Edge labels say what leads there:

- `1`, `9`, `*`... the key pressed (or its spoken words) at a menu; `→ es` means the call switches to that
  language; `(unlisted)` means the key (or its words) works but the menu never reads it out; `departments
  entry` is any entry read from that directory.
- `silence`: the caller said and pressed nothing (without this edge, a menu or input asks again).
- `fail`: too many tries at the prompt (or, at a queue, no representative; at a conference, someone who was
  dialled into it could not be reached); a dashed `fail` arrow is the
  flow-wide default (`defaults.on_fail`).{give_up}
- `yes: is_open` / `no`: a branch's condition is true / false.
- `ok`, `invalid`, `found`...: an action's result; an arrow back to the same node asks again (`@retry`). At a
  menu, `clear`, `close`, `none`...: what its action made of words that named none of its options clearly.
- `next`: the next step after speaking; `no answer` / `answered`: how a transfer ended; `left the line`: a
  caller waiting for a representative chose a call-back instead.
"""


def render_document(flow: Flow) -> str:
    """The whole docs/call-flows.md: the reading guide, then one Mermaid block per flow file."""
    give_up = flow.defaults.get("on_give_up")
    give_up_note = (f"\n  A caller who fails more often than the per-call limit goes to `{give_up}` instead."
                    if give_up else "")
    parts = [INTRO.format(entry=ENTRY_NODE, give_up=give_up_note)]
    for source, text in diagrams(flow).items():
        count = sum(1 for node in flow.nodes.values() if node.source == source)
        parts.append(f"\n## {source}\n\n{count} nodes.\n\n```mermaid\n{text}```\n")
    return "".join(parts)


def generate(flows_dir: Path = FLOWS_DIR) -> str:
    """Load the flow files (no app, no validation beyond parsing) and render the document."""
    return render_document(load_flow(flows_dir))
