"""Validate TwiML documents against the grammar encoded in twilio's own builder classes.

The grammar is not hard-coded: every builder method of every class in
``twilio.twiml.voice_response`` (``VoiceResponse.gather``, ``Gather.say``, ``Say.say_as``, ...)
is called once on a throw-away instance, and what it nests tells us the child's tag,
the attributes its keyword parameters become, and whether the child carries text.
Upgrading twilio therefore upgrades the checker.
"""

import difflib
import functools
import inspect
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from twilio.twiml import TwiML, voice_response

XML_NAMESPACE = "{http://www.w3.org/XML/1998/namespace}"
PROBE_VALUE = "probe"
DTMF_KEYS = set("0123456789#*")

# Every builder in twilio takes **kwargs, so "accepts **kwargs" cannot mean "accepts anything":
# otherwise no misspelt attribute would ever be caught. Only named parameters count as known.
_NAMED_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)

INTEGER_ATTRIBUTES = {"numDigits", "timeout", "length", "loop", "maxLength", "timeLimit", "maxSpeechTime"}
BOOLEAN_ATTRIBUTES = {
    "actionOnEmptyResult", "bargeIn", "profanityFilter", "enhanced", "debug",
    "playBeep", "hangupOnStar", "answerOnBridge", "transcribe",
}


@dataclass(frozen=True)
class ChildSpec:
    """What one builder method creates: the class, the builder's name and the attributes it accepts."""

    cls: type
    builder: str
    attributes: frozenset[str]
    takes_text: bool


def check_twiml(xml_text: str | bytes) -> list[str]:
    """Return the problems found in a TwiML voice document; an empty list means it is fine."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as err:
        return [f"not well-formed XML: {err}"]
    if root.tag != "Response":
        return [f"root element is <{root.tag}>, expected <Response>"]
    root_spec = ChildSpec(voice_response.VoiceResponse, "VoiceResponse", frozenset(), takes_text=False)
    return _check_element(root, root_spec, "Response")


def assert_valid_twiml(xml_text: str | bytes) -> None:
    """Raise AssertionError listing every problem in the document, for use in tests."""
    problems = check_twiml(xml_text)
    if problems:
        text = xml_text.decode("utf-8", "replace") if isinstance(xml_text, bytes) else xml_text
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise AssertionError(f"invalid TwiML:\n{listing}\ndocument:\n{text}")


def children_of(cls: type) -> dict[str, ChildSpec]:
    """Return the child elements a TwiML class can build, keyed by XML tag."""
    return _grammar().get(cls, {})


def known_tags() -> set[str]:
    """Return every tag some twilio builder can produce, plus the root Response."""
    tags = {"Response"}
    for children in _grammar().values():
        tags.update(children)
    return tags


@functools.cache
def _grammar() -> dict[type, dict[str, ChildSpec]]:
    """Map each TwiML class in twilio.twiml.voice_response to the children its builders create."""
    return {cls: _probe_builders(cls) for cls in _twiml_classes()}


def _twiml_classes() -> list[type]:
    """Return the TwiML classes defined by twilio's voice module."""
    return [
        cls
        for _, cls in inspect.getmembers(voice_response, inspect.isclass)
        if issubclass(cls, TwiML) and cls.__module__ == voice_response.__name__
    ]


def _probe_builders(cls: type) -> dict[str, ChildSpec]:
    """Call each builder method of cls and record what it nests."""
    children = {}
    for name, func in vars(cls).items():
        if name.startswith("_") or not inspect.isfunction(func):
            continue
        child = _probe(cls, func)
        if child is not None:
            takes_text = child.value is not None
            children[child.name] = ChildSpec(type(child), name, frozenset(child.attrs), takes_text)
    return children


def _probe(cls: type, func) -> TwiML | None:
    """Call one builder with every named parameter filled in; return the element it created."""
    # Bypass cls.__init__: some (Number, Task, ...) require a positional value we don't need here.
    parent = cls.__new__(cls)
    TwiML.__init__(parent)
    params = list(inspect.signature(func).parameters.values())[1:]
    kwargs = {p.name: PROBE_VALUE for p in params if p.kind in _NAMED_KINDS}
    try:
        child = func(parent, **kwargs)
    except Exception:  # a builder we cannot probe is simply not part of the grammar
        return None
    return child if isinstance(child, TwiML) else None


def _check_element(element: ET.Element, spec: ChildSpec, path: str) -> list[str]:
    """Check one element's attributes, text and children, recursively."""
    problems = _check_attributes(element, spec, path)
    problems += _check_text(element, spec, path)
    allowed = children_of(spec.cls)
    for child, child_path in _child_paths(element, path):
        problem = _placement_problem(child.tag, element.tag, allowed)
        if problem:
            problems.append(f"{child_path}: {problem}")
        else:
            problems += _check_element(child, allowed[child.tag], child_path)
    return problems


def _placement_problem(tag: str, parent_tag: str, allowed: dict[str, ChildSpec]) -> str | None:
    """Explain why a tag may not appear under its parent, or return None if it may."""
    if tag in allowed:
        return None
    if tag not in known_tags():
        hint = _suggest(tag, known_tags())
        return f"<{tag}> is not a TwiML element{hint}"
    if not allowed:
        return f"<{tag}> is not allowed inside <{parent_tag}>, which takes no child elements"
    return f"<{tag}> is not allowed inside <{parent_tag}> (allowed: {', '.join(sorted(allowed))})"


def _child_paths(element: ET.Element, path: str) -> list[tuple[ET.Element, str]]:
    """Pair each child with an XPath-like location, indexed only where a tag repeats."""
    tags = [child.tag for child in element]
    seen: dict[str, int] = {}
    paired = []
    for child in element:
        seen[child.tag] = seen.get(child.tag, 0) + 1
        suffix = f"[{seen[child.tag]}]" if tags.count(child.tag) > 1 else ""
        paired.append((child, f"{path}/{child.tag}{suffix}"))
    return paired


def _check_text(element: ET.Element, spec: ChildSpec, path: str) -> list[str]:
    """Flag text in an element whose twilio class has no text value (it would never be spoken)."""
    if spec.takes_text:
        return []
    text = " ".join((element.text or "").split() + [w for c in element for w in (c.tail or "").split()])
    if not text:
        return []
    return [f"{path}: <{element.tag}> takes no text; {text[:40]!r} would not be spoken (wrap it in <Say>)"]


def _check_attributes(element: ET.Element, spec: ChildSpec, path: str) -> list[str]:
    """Check each attribute is a parameter of the builder and, where easy, that its value is sane."""
    problems = []
    for raw_name, value in element.attrib.items():
        name = raw_name.replace(XML_NAMESPACE, "xml:")
        if name not in spec.attributes:
            hint = _suggest(name, spec.attributes)
            problems.append(f"{path}: <{element.tag}> has no attribute {name!r}{hint}")
        problem = _value_problem(element.tag, name, value)
        if problem:
            problems.append(f"{path}: {name}={value!r} {problem}")
    return problems


def _suggest(name: str, candidates) -> str:
    """Return a ' (did you mean ...?)' hint for a misspelt or mis-cased name."""
    by_lower = {c.lower(): c for c in candidates}
    match = by_lower.get(name.lower()) or next(iter(difflib.get_close_matches(name, candidates, n=1)), None)
    return f" (did you mean {match!r}?)" if match else ""


def _value_problem(tag: str, name: str, value: str) -> str | None:
    """Check the values Twilio is strict about; return a description of the problem or None."""
    if name == "method" or name.endswith("Method"):
        return None if value.upper() in {"GET", "POST"} else "must be GET or POST"
    if name == "input":
        tokens = value.split()
        return None if tokens and set(tokens) <= {"dtmf", "speech"} else "must be 'dtmf', 'speech' or both"
    if name == "speechTimeout":
        return None if value == "auto" or value.isdigit() else "must be a whole number of seconds or 'auto'"
    if name in INTEGER_ATTRIBUTES:
        return _integer_problem(name, value)
    if name in BOOLEAN_ATTRIBUTES:
        return None if value.lower() in {"true", "false"} else "must be 'true' or 'false'"
    if name == "finishOnKey":
        return _finish_on_key_problem(tag, value)
    if name == "sendDigits":
        return None if set(value) <= DTMF_KEYS | {"w", "W"} else "may only contain 0-9, #, * and w"
    return None


def _integer_problem(name: str, value: str) -> str | None:
    """Require a non-negative integer (numDigits: at least 1)."""
    if value == "auto":
        return "must be a whole number ('auto' is only valid for speechTimeout)"
    if not value.isdigit():
        return "must be a whole number"
    if name == "numDigits" and int(value) < 1:
        return "must be at least 1"
    return None


def _finish_on_key_problem(tag: str, value: str) -> str | None:
    """Gather takes one key (or none); Record accepts a set of keys."""
    if not set(value) <= DTMF_KEYS:
        return "may only contain 0-9, # and * (or be empty)"
    if tag == "Gather" and len(value) > 1:
        return "must be a single key (or empty) on <Gather>"
    return None
