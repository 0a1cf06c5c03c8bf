"""Call flows as data: parse flows/*.yaml into frozen dataclasses and check every reference at load time.

Menu keys are written once, as a menu's options. A menu's prompt list reads the options' labels where it
says `@options`; each label is a prompt with a `{key}` placeholder that the engine fills with the option's
key in the label's language. A prompt entry that is itself a list is said as one utterance (one <Say> per
language), e.g. `prompt: [[report.summary, "@options"]]`. An option with `unlisted: true` has no label: it
is accepted by key or word but never read out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import words
from .prompts import LANGUAGES, Catalog, placeholders

ENTRY_NODE = "start"
DIRECTORY_ITEMS = "@items"  # in a directory menu's prompt list: where the entries are read
OPTIONS = "@options"  # in a menu's prompt list: where the options' labels are read
MARKERS = (DIRECTORY_ITEMS, OPTIONS)
KEY_FIELD = "key"  # the placeholder in a label that the engine fills with the option's key
KEY_PROMPTS = {"*": "keys.star", "#": "keys.pound"}  # how labels say the keys that are not digits
ENGINE_PROMPTS = ("common.retry", "common.emergency", "common.emergency_menu",
                  *KEY_PROMPTS.values())  # spoken by the engine itself
OPTION_KEYS = frozenset({"next", "set_lang", "say", "label", "unlisted", "also_means",
                         "offers"})  # what an option may hold
RETRY = "@retry"  # an action result mapped here re-prompts the same node, counting an attempt
TRANSFER_TARGETS = ("department",)
CONFERENCE_ROOMS = ("interpretation",)  # what a conference node may join the caller to


@dataclass(frozen=True)
class KindSpec:
    """What a node kind accepts beyond name/kind, what it cannot do without, and whether it listens."""

    keys: frozenset[str]
    required: tuple[str, ...] = ()
    listens: bool = False


# Every node kind. The loader rejects any other key (a typo worth stopping for); the engine has one handler
# per kind (Engine.ENTER), and a test keeps the two in step.
KINDS: dict[str, KindSpec] = {
    "say": KindSpec(frozenset({"prompt", "next"}), ("next",)),
    # A menu's `action` judges speech that names none of its options clearly (its directory's words included);
    # its `results` say where each verdict leads. Keys stay the menu's own.
    "menu": KindSpec(frozenset({"prompt", "options", "directory", "item_prompt", "directory_next", "on_silence",
                                "on_fail", "timeout", "input", "max_attempts", "action", "results"}),
                     ("prompt",), listens=True),
    "branch": KindSpec(frozenset({"when", "then", "else"}), ("when", "then", "else")),
    "action": KindSpec(frozenset({"action", "results"}), ("action", "results")),
    "input": KindSpec(frozenset({"prompt", "action", "results", "input", "finish_on_key", "num_digits", "timeout",
                                 "max_attempts", "on_fail", "on_silence", "speech_timeout"}),
                      ("prompt", "action", "results"), listens=True),
    # `transcribe: true` asks for a transcript of the recording where the caller's language allows one.
    "record": KindSpec(frozenset({"prompt", "action", "results", "max_length", "on_silence", "transcribe"}),
                       ("prompt", "action", "results", "max_length"), listens=True),
    "transfer": KindSpec(frozenset({"to", "prompt", "on_no_answer", "on_answer"}), ("to", "on_no_answer")),
    # `on_leave`: where a caller goes who chose to leave the line while waiting (a call-back instead).
    "queue": KindSpec(frozenset({"prompt", "on_fail", "on_leave"})),
    # The caller joins a conference that others are dialled into; on_fail: it could not be set up, or the
    # caller was brought out of it (someone never answered) before any conversation.
    "conference": KindSpec(frozenset({"to", "prompt", "on_fail"}), ("to", "on_fail")),
    "hangup": KindSpec(frozenset({"prompt"})),
}
_ATTRIBUTES = {"else": "otherwise"}  # YAML keys whose Node attribute is named differently


class FlowError(ValueError):
    """A flow file is malformed; the message names the file, node and key."""


@dataclass(frozen=True)
class PromptRef:
    """A prompt key, spoken in the caller's language unless `lang` fixes one."""

    key: str
    lang: str | None = None
    joined: bool = False  # said in one utterance with the entry before it (when in the same language)
    when: str | None = None  # a condition: the prompt is said only while it holds (e.g. recording_enabled)


@dataclass(frozen=True)
class Target:
    """Where an input leads, optionally switching the call's language."""

    node: str
    set_lang: str | None = None


@dataclass(frozen=True)
class Option:
    """A menu choice: keys to press, words to say, and the label that offers it."""

    digits: str
    target: Target
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    label: PromptRef | None = None
    # Accepted but never read out: keeps a key callers know (0 for a person, 9 to repeat) working without
    # lengthening the menu, or answers a request the menu cannot offer right now.
    unlisted: bool = False
    # A directory whose words also choose this option: "someone spray painted the library" at the main
    # menu is a report, because it names a service type.
    also_means: str | None = None
    # After its label, the catalog's offered languages each say this option's key in their own words and voice
    # ("For help in Portuguese, press 3." in Portuguese): the greeting's offer of an interpreter.
    offers: bool = False


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
    transcribe: bool = False
    to: str | None = None
    on_no_answer: str | None = None
    on_answer: str | None = None
    on_leave: str | None = None

    def spoken_refs(self) -> tuple[PromptRef, ...]:
        """Every prompt the node reads, in order: option labels in place of '@options', no markers."""
        refs: list[PromptRef] = []
        for ref in self.prompt:
            if ref.key == OPTIONS:
                refs.extend(opt.label for opt in self.options if opt.label)
            elif ref.key not in MARKERS:
                refs.append(ref)
        return tuple(refs)


@dataclass(frozen=True)
class Flow:
    """Every node of every flow file, plus flow-wide defaults."""

    nodes: dict[str, Node]
    defaults: dict

    def node(self, name: str) -> Node:
        """Look a node up by name."""
        return self.nodes[name]


# ---- parsing -------------------------------------------------------------------------------------

# libyaml's parser when PyYAML was built with it: the flows parse several times faster at every start-up.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SAFE_LOADER):
    """A SafeLoader that refuses a mapping key written twice (PyYAML would keep the last one silently)."""

    def __init__(self, text: str, source: str):
        super().__init__(text)
        self.source = source


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """Build a mapping, failing on a repeated key such as a menu option written twice."""
    seen = []
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise FlowError(f"{loader.source}: line {key_node.start_mark.line + 1}: key {key!r} is written twice")
        seen.append(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _prompt_ref(item, where: str, joined: bool = False) -> PromptRef:
    """Accept a key or {key, lang}."""
    if isinstance(item, str):
        return PromptRef(item, joined=joined)
    if isinstance(item, dict) and set(item) <= {"key", "lang", "when"} and "key" in item:
        return PromptRef(item["key"], item.get("lang"), joined, item.get("when"))
    raise FlowError(f"{where}: prompt entries are keys, {{key, lang, when}} or a list of those said as one, "
                    f"got {item!r}")


def _prompt_refs(raw, where: str) -> tuple[PromptRef, ...]:
    """Accept a key, {key, lang}, or a list of those; an inner list is said as one utterance."""
    if raw is None:
        return ()
    refs: list[PromptRef] = []
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, list) and item:
            refs += [_prompt_ref(part, where, joined=index > 0) for index, part in enumerate(item)]
        else:
            refs.append(_prompt_ref(item, where))
    return tuple(refs)


def _target(raw, where: str) -> Target:
    """Accept a node name or {next, set_lang} (an option's mapping also holds its label and words)."""
    if isinstance(raw, str):
        return Target(raw)
    if isinstance(raw, dict) and "next" in raw and set(raw) <= OPTION_KEYS:
        return Target(raw["next"], raw.get("set_lang"))
    raise FlowError(f"{where}: expected a node name or {{next, set_lang, label, say, unlisted, also_means}}, "
                    f"got {raw!r}")


def _option(digits: str, spec, where: str) -> Option:
    """One menu option: its target, spoken words per language and label."""
    if not digits or any(ch not in "0123456789*#" for ch in digits):
        raise FlowError(f"{where}: option {digits!r} is not a phone key")
    where = f"{where} option {digits!r}"
    target = _target(spec, where)
    spec = spec if isinstance(spec, dict) else {}
    said = spec.get("say", {})
    if not isinstance(said, dict):
        raise FlowError(f"{where}: 'say' maps languages to word lists")
    label = _prompt_ref(spec["label"], f"{where}: label") if "label" in spec else None
    unlisted = spec.get("unlisted", False)
    if not isinstance(unlisted, bool):
        raise FlowError(f"{where}: 'unlisted' is true or false")
    if unlisted and label is not None:
        raise FlowError(f"{where}: an unlisted option is never read, so it takes no label")
    also_means = spec.get("also_means")
    if also_means is not None and not isinstance(also_means, str):
        raise FlowError(f"{where}: 'also_means' names a directory")
    offers = spec.get("offers", False)
    if not isinstance(offers, bool):
        raise FlowError(f"{where}: 'offers' is true or false")
    if offers and (label is None or not digits.isdigit()):
        raise FlowError(f"{where}: an option said in the offered languages needs a label and a digit key")
    return Option(digits, target, {lang: tuple(str(w).lower() for w in ws) for lang, ws in said.items()}, label,
                  unlisted, also_means, offers)


def _options(raw, where: str) -> tuple[Option, ...]:
    """Parse a menu's key -> target map."""
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: options must map keys to targets")
    return tuple(_option(str(digits), spec, where) for digits, spec in raw.items())


def _input_modes(raw: dict, where: str) -> tuple[str, ...]:
    """'dtmf', 'speech' or both."""
    input_modes = raw.get("input", "dtmf speech")
    modes = tuple(str(input_modes).split())
    if not modes or set(modes) - {"dtmf", "speech"}:
        raise FlowError(f"{where}: input must be 'dtmf', 'speech' or both, got {input_modes!r}")
    return modes


def _text_or_none(value) -> str | None:
    """YAML may read '#' or '2s' as text and 5 as a number: keep whichever as text."""
    return None if value is None else str(value)


def _flag(raw: dict, key: str, where: str) -> bool:
    """A true/false key, false when absent."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise FlowError(f"{where}: {key!r} is true or false")
    return value


def _check_kind(raw, where: str) -> str:
    """The node's kind, after rejecting an unknown kind or a key the kind does not take."""
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: expected a mapping")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise FlowError(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    unknown = set(raw) - KINDS[kind].keys - {"kind"}
    if unknown:
        raise FlowError(f"{where}: unknown key {sorted(unknown)[0]!r} for kind {kind!r}")
    return kind


def _parse_node(name: str, raw: dict, source: str) -> Node:
    """Turn one YAML mapping into a Node, rejecting unknown kinds and keys."""
    where = f"{source}: node {name!r}"
    kind = _check_kind(raw, where)
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
        input=_input_modes(raw, where),
        finish_on_key=_text_or_none(raw.get("finish_on_key")),
        num_digits=raw.get("num_digits"),
        timeout=raw.get("timeout"),
        speech_timeout=_text_or_none(raw.get("speech_timeout")),
        max_attempts=raw.get("max_attempts"),
        max_length=raw.get("max_length"),
        transcribe=_flag(raw, "transcribe", where),
        to=raw.get("to"),
        on_no_answer=raw.get("on_no_answer"),
        on_answer=raw.get("on_answer"),
        on_leave=raw.get("on_leave"),
    )


# ---- checking ------------------------------------------------------------------------------------

def _node_references(node: Node) -> list[tuple[str, str | None]]:
    """Every (what, node name) a node points at, for the reference check."""
    refs: list[tuple[str, str | None]] = [
        ("next", node.next), ("on_fail", node.on_fail), ("then", node.then), ("else", node.otherwise),
        ("directory_next", node.directory_next), ("on_no_answer", node.on_no_answer),
        ("on_answer", node.on_answer), ("on_leave", node.on_leave),
    ]
    refs += [(f"option {opt.digits!r}", opt.target.node) for opt in node.options]
    refs += [(f"result {result!r}", target) for result, target in node.results.items() if target != RETRY]
    if node.on_silence:
        refs.append(("on_silence", node.on_silence.node))
    return [(what, target) for what, target in refs if target is not None]


def _require(node: Node, *keys: str) -> None:
    """Fail if a kind's required keys are missing."""
    for key in keys:
        if getattr(node, _ATTRIBUTES.get(key, key)) in (None, (), {}):
            raise FlowError(f"{node.source}: node {node.name!r}: kind {node.kind!r} needs {key!r}")


def _directory_keys(directories: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """The keys each directory offers (speech-only entries have none), each used once."""
    offered = {}
    for name, keys in directories.items():
        pressed = [key for key in keys if key]
        for key in pressed:
            if pressed.count(key) > 1:
                raise FlowError(f"config: directory {name!r} key {key!r} is used twice")
        offered[name] = tuple(pressed)
    return offered


def _check_flow_wide(flow: Flow, catalog: Catalog) -> None:
    """The entry node, the engine's own prompts and the flow defaults exist."""
    if ENTRY_NODE not in flow.nodes:
        raise FlowError(f"flows: no node named {ENTRY_NODE!r} to start calls at")
    for key in ENGINE_PROMPTS:
        if not catalog.has(key):
            raise FlowError(f"prompts: the engine needs prompt {key!r}")
    for fallback in ("on_fail", "on_give_up"):
        if flow.defaults.get(fallback) and flow.defaults[fallback] not in flow.nodes:
            raise FlowError(f"flows: defaults.{fallback}: unknown node {flow.defaults[fallback]!r}")


def _check_shape(node: Node, where: str, directories: Mapping[str, tuple[str, ...]]) -> None:
    """Required keys per kind, menus with something to choose, known directories and transfer targets."""
    _require(node, *KINDS[node.kind].required)
    if node.kind == "menu" and not node.options and not node.directory:
        raise FlowError(f"{where}: a menu needs options or a directory")
    for opt in node.options:
        if opt.also_means is not None and opt.also_means not in directories:
            raise FlowError(f"{where}: option {opt.digits!r}: also_means: unknown directory {opt.also_means!r}")
    if node.kind == "menu" and bool(node.action) != bool(node.results):
        raise FlowError(f"{where}: a menu's action and its results come together")
    if node.directory:
        _check_directory(node, where, directories)
    if node.kind == "transfer" and node.to not in TRANSFER_TARGETS:
        raise FlowError(f"{where}: transfer 'to' must be one of {', '.join(TRANSFER_TARGETS)}")
    if node.kind == "conference" and node.to not in CONFERENCE_ROOMS:
        raise FlowError(f"{where}: conference 'to' must be one of {', '.join(CONFERENCE_ROOMS)}")


def _check_directory(node: Node, where: str, directories: Mapping[str, tuple[str, ...]]) -> None:
    """A known directory; entries read where the prompt says '@items', in the words of item_prompt."""
    if node.directory not in directories:
        raise FlowError(f"{where}: unknown directory {node.directory!r}")
    _require(node, "directory_next")
    # Without item_prompt the entries are listened for but not read (another menu reads them): a menu that
    # names item_prompt and forgets '@items' is the mistake worth stopping for.
    reads_items = DIRECTORY_ITEMS in [ref.key for ref in node.prompt]
    if node.item_prompt and not reads_items:
        raise FlowError(f"{where}: a directory menu's prompt needs {DIRECTORY_ITEMS!r} where entries are read")
    if reads_items and not node.item_prompt:
        raise FlowError(f"{where}: a directory menu that reads its entries needs 'item_prompt'")


def _check_conditions(node: Node, where: str, conditions: set[str]) -> None:
    """A branch's condition, and any a prompt is said under, exist."""
    if node.when and node.when not in conditions:
        raise FlowError(f"{where}: unknown condition {node.when!r}")
    for ref in node.prompt:
        if ref.when is not None and ref.when not in conditions:
            raise FlowError(f"{where}: prompt {ref.key!r}: unknown condition {ref.when!r}")


def _check_references(node: Node, flow: Flow, where: str, actions: set[str], conditions: set[str]) -> None:
    """Nodes, actions, conditions and languages the node names all exist."""
    for what, target in _node_references(node):
        if target not in flow.nodes:
            raise FlowError(f"{where}: {what}: unknown node {target!r}")
    if node.action and node.action not in actions:
        raise FlowError(f"{where}: unknown action {node.action!r}")
    _check_conditions(node, where, conditions)
    targets = [opt.target for opt in node.options] + ([node.on_silence] if node.on_silence else [])
    for target in targets:
        if target.set_lang is not None and target.set_lang not in LANGUAGES:
            raise FlowError(f"{where}: unknown language {target.set_lang!r}")
    for opt in node.options:
        for lang in opt.words:
            if lang not in LANGUAGES:
                raise FlowError(f"{where}: option {opt.digits!r}: unknown language {lang!r}")


def _check_marker(node: Node, ref: PromptRef, where: str) -> None:
    """'@items' belongs to directory menus, '@options' to menus with options."""
    if ref.key == DIRECTORY_ITEMS and not node.directory:
        raise FlowError(f"{where}: unknown prompt {ref.key!r} (only a directory menu reads entries)")
    if ref.key == OPTIONS and not (node.kind == "menu" and node.options):
        raise FlowError(f"{where}: unknown prompt {ref.key!r} (only a menu with options reads them)")


def _check_prompt(ref: PromptRef, catalog: Catalog, where: str) -> None:
    """A prompt reference names a prompt, and a language if it fixes one."""
    if not catalog.has(ref.key):
        raise FlowError(f"{where}: unknown prompt {ref.key!r}")
    if ref.lang is not None and ref.lang not in LANGUAGES:
        raise FlowError(f"{where}: prompt {ref.key!r}: unknown language {ref.lang!r}")


def _check_prompts(node: Node, catalog: Catalog, where: str) -> None:
    """Every prompt, label and marker the node reads exists."""
    for ref in node.prompt:
        if ref.key in MARKERS:
            _check_marker(node, ref, where)
        else:
            _check_prompt(ref, catalog, where)
    for opt in node.options:
        if opt.label:
            _check_prompt(opt.label, catalog, f"{where}: option {opt.digits!r}: label")
    if node.item_prompt and not catalog.has(node.item_prompt):
        raise FlowError(f"{where}: unknown prompt {node.item_prompt!r}")


def _check_labels(node: Node, catalog: Catalog, where: str) -> None:
    """Options are labelled exactly when the prompt reads them, and every label says its {key}."""
    reads_options = OPTIONS in [ref.key for ref in node.prompt]
    for opt in node.options:
        if reads_options and opt.label is None and not opt.unlisted:
            raise FlowError(f"{where}: option {opt.digits!r} has no label, but the prompt reads {OPTIONS!r}")
        if opt.label and not reads_options:
            raise FlowError(f"{where}: option {opt.digits!r} has a label, but the prompt has no {OPTIONS!r}")
        for lang in LANGUAGES if opt.label else ():
            if KEY_FIELD not in placeholders(catalog.texts[lang][opt.label.key]):
                raise FlowError(f"{where}: option {opt.digits!r}: label {opt.label.key!r} ({lang}) has no "
                                f"{{{KEY_FIELD}}} where the key is said")


def _check_keys(node: Node, where: str, directories: Mapping[str, tuple[str, ...]]) -> None:
    """Each key of a menu leads to one place: no option twice, no directory entry on an option's key."""
    keys = [opt.digits for opt in node.options]
    for key in keys:
        if keys.count(key) > 1:
            raise FlowError(f"{where}: option {key!r} is given twice")
    for key in directories.get(node.directory, ()) if node.directory else ():
        if key in keys:
            raise FlowError(f"config: directory {node.directory!r} key {key!r} collides with {where} option {key!r}")


def _check_no_written_keys(node: Node, catalog: Catalog, where: str) -> None:
    """No prompt a menu reads says a key itself: the options are the one place keys are set."""
    keys = [ref.key for ref in node.spoken_refs()] + ([node.item_prompt] if node.item_prompt else [])
    for lang in LANGUAGES:
        names = [catalog.texts[lang][name] for name in KEY_PROMPTS.values()]
        for key in dict.fromkeys(keys):
            phrase = words.key_phrase(catalog.texts[lang][key], lang, names)
            if phrase:
                raise FlowError(f"{where}: prompt {key!r} ({lang}) says the key itself ({phrase!r}): give the "
                                f"option a label with {{{KEY_FIELD}}} and read it with {OPTIONS!r}")


def validate(flow: Flow, catalog: Catalog, actions: set[str], conditions: set[str],
             directories: Mapping[str, Iterable[str]]) -> None:
    """Check every node, prompt, action, condition, directory (name -> keys it offers) and menu key."""
    offered = _directory_keys(directories)
    _check_flow_wide(flow, catalog)
    for node in flow.nodes.values():
        where = f"{node.source}: node {node.name!r}"
        _check_shape(node, where, offered)
        _check_references(node, flow, where, actions, conditions)
        _check_prompts(node, catalog, where)
        if node.kind == "menu":
            _check_labels(node, catalog, where)
            _check_keys(node, where, offered)
            _check_no_written_keys(node, catalog, where)


def load_flow(flows_dir: Path) -> Flow:
    """Read every flows/*.yaml into one Flow; node names are unique across files."""
    nodes: dict[str, Node] = {}
    defaults: dict = {}
    paths = sorted(flows_dir.glob("*.yaml"))
    if not paths:
        raise FlowError(f"{flows_dir}: no flow files (*.yaml)")
    for path in paths:
        source = f"flows/{path.name}"
        data = _read(path, source)
        defaults.update(data.get("defaults") or {})
        for name, raw in (data.get("nodes") or {}).items():
            if name in nodes:
                raise FlowError(f"{source}: node {name!r} is also defined in {nodes[name].source}")
            nodes[name] = _parse_node(str(name), raw, source)
    return Flow(nodes=nodes, defaults=defaults)


def _read(path: Path, source: str) -> dict:
    """One flow file's top-level mapping."""
    try:
        loader = _UniqueKeyLoader(path.read_text(encoding="utf-8"), source)
        try:
            data = loader.get_single_data() or {}
        finally:
            loader.dispose()
    except (OSError, yaml.YAMLError) as exc:
        raise FlowError(f"{source}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("nodes", {}), dict):
        raise FlowError(f"{source}: expected a mapping with 'nodes'")
    unknown = set(data) - {"nodes", "defaults"}
    if unknown:
        raise FlowError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}")
    return data
