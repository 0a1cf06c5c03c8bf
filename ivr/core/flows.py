"""Call flows as data: parse flows/*.yaml into frozen dataclasses and check every reference at load time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .prompts import LANGUAGES, Catalog

NODE_KINDS = ("say", "menu", "branch", "action", "input", "record", "transfer", "queue", "hangup")
INPUT_KINDS = ("menu", "input", "record")
ENTRY_NODE = "start"
DIRECTORY_ITEMS = "@items"  # in a directory menu's prompt list: where the entries are read
ENGINE_PROMPTS = ("common.retry", "common.emergency")  # spoken by the engine itself, not named in flows
RETRY = "@retry"  # an action result mapped here re-prompts the same node, counting an attempt

# Which keys each kind accepts beyond name/kind; anything else is a typo worth stopping for.
ALLOWED_KEYS = {
    "say": {"prompt", "next"},
    "menu": {"prompt", "options", "directory", "item_prompt", "directory_next", "on_silence", "on_fail",
             "timeout", "input", "max_attempts", "speech_only_keywords"},
    "branch": {"when", "then", "else"},
    "action": {"action", "results"},
    "input": {"prompt", "action", "results", "input", "finish_on_key", "num_digits", "timeout",
              "max_attempts", "on_fail", "on_silence", "speech_timeout"},
    "record": {"prompt", "action", "results", "max_length", "on_silence"},
    "transfer": {"to", "prompt", "on_no_answer", "on_answer"},
    "queue": {"prompt", "on_fail"},
    "hangup": {"prompt"},
}
TRANSFER_TARGETS = ("department", "interpretation")


class FlowError(ValueError):
    """A flow file is malformed; the message names the file, node and key."""


@dataclass(frozen=True)
class PromptRef:
    """A prompt key, spoken in the caller's language unless `lang` fixes one."""

    key: str
    lang: str | None = None


@dataclass(frozen=True)
class Target:
    """Where an input leads, optionally switching the call's language."""

    node: str
    set_lang: str | None = None


@dataclass(frozen=True)
class Option:
    """A menu choice: keys to press and words to say."""

    digits: str
    target: Target
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """One step of a call flow."""

    name: str
    kind: str
    source: str
    prompt: tuple[PromptRef, ...] = ()
    next: str | None = None
    options: tuple[Option, ...] = ()
    directory: str | None = None
    item_prompt: str | None = None
    directory_next: str | None = None
    on_silence: Target | None = None
    on_fail: str | None = None
    when: str | None = None
    then: str | None = None
    otherwise: str | None = None
    action: str | None = None
    results: dict[str, str] = field(default_factory=dict)
    input: tuple[str, ...] = ("dtmf", "speech")
    finish_on_key: str | None = None
    num_digits: int | None = None
    timeout: int | None = None
    speech_timeout: str | None = None
    max_attempts: int | None = None
    max_length: int | None = None
    to: str | None = None
    on_no_answer: str | None = None
    on_answer: str | None = None

    @property
    def waits_for_caller(self) -> bool:
        """True for nodes that end a turn by listening."""
        return self.kind in INPUT_KINDS


@dataclass(frozen=True)
class Flow:
    """Every node of every flow file, plus flow-wide defaults."""

    nodes: dict[str, Node]
    defaults: dict

    def node(self, name: str) -> Node:
        """Look a node up by name."""
        return self.nodes[name]


def _prompt_refs(raw, where: str) -> tuple[PromptRef, ...]:
    """Accept a key, a list of keys, or {key, lang} mappings."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    refs = []
    for item in items:
        if isinstance(item, str):
            refs.append(PromptRef(item))
        elif isinstance(item, dict) and set(item) <= {"key", "lang"} and "key" in item:
            refs.append(PromptRef(item["key"], item.get("lang")))
        else:
            raise FlowError(f"{where}: prompt entries are keys or {{key, lang}}, got {item!r}")
    return tuple(refs)


def _target(raw, where: str) -> Target:
    """Accept a node name or {next, set_lang}."""
    if isinstance(raw, str):
        return Target(raw)
    if isinstance(raw, dict) and "next" in raw and set(raw) <= {"next", "set_lang", "say"}:
        return Target(raw["next"], raw.get("set_lang"))
    raise FlowError(f"{where}: expected a node name or {{next, set_lang}}, got {raw!r}")


def _options(raw, where: str) -> tuple[Option, ...]:
    """Parse a menu's digit -> target map, with optional spoken words per language."""
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: options must map keys to targets")
    options = []
    for digits, spec in raw.items():
        digits = str(digits)
        if not digits or any(ch not in "0123456789*#" for ch in digits):
            raise FlowError(f"{where}: option {digits!r} is not a phone key")
        words = {}
        if isinstance(spec, dict) and "say" in spec:
            if not isinstance(spec["say"], dict):
                raise FlowError(f"{where} option {digits!r}: 'say' maps languages to word lists")
            words = {lang: tuple(str(w).lower() for w in ws) for lang, ws in spec["say"].items()}
        options.append(Option(digits, _target(spec, f"{where} option {digits!r}"), words))
    return tuple(options)


def _parse_node(name: str, raw: dict, source: str) -> Node:
    """Turn one YAML mapping into a Node, rejecting unknown kinds and keys."""
    where = f"{source}: node {name!r}"
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: expected a mapping")
    kind = raw.get("kind")
    if kind not in NODE_KINDS:
        raise FlowError(f"{where}: unknown kind {kind!r} (one of {', '.join(NODE_KINDS)})")
    unknown = set(raw) - ALLOWED_KEYS[kind] - {"kind"}
    if unknown:
        raise FlowError(f"{where}: unknown key {sorted(unknown)[0]!r} for kind {kind!r}")
    input_modes = raw.get("input", "dtmf speech")
    modes = tuple(str(input_modes).split())
    if not modes or set(modes) - {"dtmf", "speech"}:
        raise FlowError(f"{where}: input must be 'dtmf', 'speech' or both, got {input_modes!r}")
    results = raw.get("results", {})
    if not isinstance(results, dict):
        raise FlowError(f"{where}: results must map action results to nodes")
    return Node(
        name=name,
        kind=kind,
        source=source,
        prompt=_prompt_refs(raw.get("prompt"), where),
        next=raw.get("next"),
        options=_options(raw["options"], where) if "options" in raw else (),
        directory=raw.get("directory"),
        item_prompt=raw.get("item_prompt"),
        directory_next=raw.get("directory_next"),
        on_silence=_target(raw["on_silence"], f"{where} on_silence") if "on_silence" in raw else None,
        on_fail=raw.get("on_fail"),
        when=raw.get("when"),
        then=raw.get("then"),
        otherwise=raw.get("else"),
        action=raw.get("action"),
        results={str(k): str(v) for k, v in results.items()},
        input=modes,
        finish_on_key=None if raw.get("finish_on_key") is None else str(raw["finish_on_key"]),
        num_digits=raw.get("num_digits"),
        timeout=raw.get("timeout"),
        speech_timeout=None if raw.get("speech_timeout") is None else str(raw["speech_timeout"]),
        max_attempts=raw.get("max_attempts"),
        max_length=raw.get("max_length"),
        to=raw.get("to"),
        on_no_answer=raw.get("on_no_answer"),
        on_answer=raw.get("on_answer"),
    )


def _node_references(node: Node) -> list[tuple[str, str | None]]:
    """Every (what, node name) a node points at, for the reference check."""
    refs: list[tuple[str, str | None]] = [
        ("next", node.next), ("on_fail", node.on_fail), ("then", node.then), ("else", node.otherwise),
        ("directory_next", node.directory_next), ("on_no_answer", node.on_no_answer),
        ("on_answer", node.on_answer),
    ]
    refs += [(f"option {opt.digits!r}", opt.target.node) for opt in node.options]
    refs += [(f"result {result!r}", target) for result, target in node.results.items() if target != RETRY]
    if node.on_silence:
        refs.append(("on_silence", node.on_silence.node))
    return [(what, target) for what, target in refs if target is not None]


def _require(node: Node, *fields: str) -> None:
    """Fail if a kind's required fields are missing."""
    for name in fields:
        if getattr(node, name) in (None, (), {}):
            label = "else" if name == "otherwise" else name
            raise FlowError(f"{node.source}: node {node.name!r}: kind {node.kind!r} needs {label!r}")


def validate(flow: Flow, catalog: Catalog, actions: set[str], conditions: set[str],
             directories: set[str]) -> None:
    """Check every node, prompt, action, condition, directory and language a flow refers to."""
    if ENTRY_NODE not in flow.nodes:
        raise FlowError(f"flows: no node named {ENTRY_NODE!r} to start calls at")
    for key in ENGINE_PROMPTS:
        if not catalog.has(key):
            raise FlowError(f"prompts: the engine needs prompt {key!r}")
    for fallback in ("on_fail", "on_give_up"):
        if flow.defaults.get(fallback) and flow.defaults[fallback] not in flow.nodes:
            raise FlowError(f"flows: defaults.{fallback}: unknown node {flow.defaults[fallback]!r}")
    for node in flow.nodes.values():
        where = f"{node.source}: node {node.name!r}"
        required = {
            "say": ("next",), "menu": ("prompt",), "branch": ("when", "then", "otherwise"),
            "action": ("action", "results"), "input": ("prompt", "action", "results"),
            "record": ("prompt", "action", "results"), "transfer": ("to", "on_no_answer"),
        }.get(node.kind, ())
        _require(node, *required)
        if node.kind == "menu" and not node.options and not node.directory:
            raise FlowError(f"{where}: a menu needs options or a directory")
        if node.directory:
            if node.directory not in directories:
                raise FlowError(f"{where}: unknown directory {node.directory!r}")
            _require(node, "item_prompt", "directory_next")
            if DIRECTORY_ITEMS not in [ref.key for ref in node.prompt]:
                raise FlowError(f"{where}: a directory menu's prompt needs {DIRECTORY_ITEMS!r} where entries are read")
        for what, target in _node_references(node):
            if target not in flow.nodes:
                raise FlowError(f"{where}: {what}: unknown node {target!r}")
        for ref in node.prompt:
            if ref.key == DIRECTORY_ITEMS and node.directory:
                continue
            if not catalog.has(ref.key):
                raise FlowError(f"{where}: unknown prompt {ref.key!r}")
            if ref.lang is not None and ref.lang not in LANGUAGES:
                raise FlowError(f"{where}: prompt {ref.key!r}: unknown language {ref.lang!r}")
        if node.item_prompt and not catalog.has(node.item_prompt):
            raise FlowError(f"{where}: unknown prompt {node.item_prompt!r}")
        targets = [opt.target for opt in node.options] + ([node.on_silence] if node.on_silence else [])
        for target in targets:
            if target.set_lang is not None and target.set_lang not in LANGUAGES:
                raise FlowError(f"{where}: unknown language {target.set_lang!r}")
        for opt in node.options:
            for lang in opt.words:
                if lang not in LANGUAGES:
                    raise FlowError(f"{where}: option {opt.digits!r}: unknown language {lang!r}")
        if node.action and node.action not in actions:
            raise FlowError(f"{where}: unknown action {node.action!r}")
        if node.when and node.when not in conditions:
            raise FlowError(f"{where}: unknown condition {node.when!r}")
        if node.kind == "transfer" and node.to not in TRANSFER_TARGETS:
            raise FlowError(f"{where}: transfer 'to' must be one of {', '.join(TRANSFER_TARGETS)}")


def load_flow(flows_dir: Path) -> Flow:
    """Read every flows/*.yaml into one Flow; node names are unique across files."""
    nodes: dict[str, Node] = {}
    defaults: dict = {}
    paths = sorted(flows_dir.glob("*.yaml"))
    if not paths:
        raise FlowError(f"{flows_dir}: no flow files (*.yaml)")
    for path in paths:
        source = f"flows/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise FlowError(f"{source}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("nodes", {}), dict):
            raise FlowError(f"{source}: expected a mapping with 'nodes'")
        unknown = set(data) - {"nodes", "defaults"}
        if unknown:
            raise FlowError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}")
        defaults.update(data.get("defaults") or {})
        for name, raw in (data.get("nodes") or {}).items():
            if name in nodes:
                raise FlowError(f"{source}: node {name!r} is also defined in {nodes[name].source}")
            nodes[name] = _parse_node(str(name), raw, source)
    return Flow(nodes=nodes, defaults=defaults)
