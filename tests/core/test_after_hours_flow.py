"""After hours the line offers nobody it cannot reach: every prompt a closed line can say is walked and read.

Also the flow feature that lets a menu accept a key without reading it (`unlisted: true`), which is how
"representative" and 0 are answered after hours without being offered.
"""

import re
import textwrap

import pytest

from ivr.core.diagram import generate
from ivr.core.engine import Engine, Listen, Speak, Turn
from ivr.core.flows import ENTRY_NODE, KINDS, RETRY, Flow, FlowError, Node, load_flow, validate
from ivr.core.prompts import LANGUAGES, load_catalog
from ivr.settings import PROJECT_ROOT, SpeechSettings

CATALOG = load_catalog(PROJECT_ROOT / "prompts")
SETTINGS = SpeechSettings(max_attempts=3, max_failures_per_call=2, timeout=8, speech_timeout="auto")

# Words that offer a person, a department or a transfer. Matched on the prompt templates, accents and case ignored.
OFFERS = {
    "en": r"\b(representatives?|operators?|agents?|departments?|connecting|transfer\w*|please hold|"
          r"speak (with|to) (a|someone|somebody))\b",
    "es": r"\b(representantes?|operador(es)?|agentes?|departamentos?|comunic\w*|transfer\w*|espere)\b",
}
# (language, prompt) -> the one offer word it may say because it offers nothing: it says who needs the details.
MENTIONS = {("en", "report.name_ask"): "department"}


def following(node: Node, flow: Flow) -> list[str]:
    """Every node a caller can go on to from `node` while 311 is closed (is_open false, other conditions both)."""
    if node.kind == "branch":
        return [node.otherwise] if node.when == "is_open" else [node.then, node.otherwise]
    targets = [node.next, node.directory_next, node.on_no_answer, node.on_answer]
    targets += [option.target.node for option in node.options]
    targets += [target for target in node.results.values() if target != RETRY]
    targets += [node.on_silence.node] if node.on_silence else []
    if KINDS[node.kind].listens or node.kind == "queue":
        # Running out of attempts: the node's own fallback or the flow's, and the call-wide give-up.
        targets += [node.on_fail or flow.defaults["on_fail"], flow.defaults["on_give_up"]]
    return [target for target in targets if target]


def reachable_when_closed(flow: Flow) -> set[str]:
    """Every node reachable from the start of a call while 311 is closed."""
    seen: set[str] = set()
    waiting = [ENTRY_NODE]
    while waiting:
        name = waiting.pop()
        if name not in seen:
            seen.add(name)
            waiting.extend(following(flow.node(name), flow))
    return seen


def spoken_prompts(node: Node) -> list[str]:
    """Every prompt key a node can say: its prompts, option labels, directory items and the engine's own."""
    keys = [ref.key for ref in node.spoken_refs()]
    keys += [node.item_prompt] if node.item_prompt else []
    keys += ["common.retry", "common.emergency"] if KINDS[node.kind].listens else []
    return keys


def offer_in(text: str, lang: str) -> str | None:
    """The first word of `text` that offers a person, department or transfer, or None."""
    found = re.search(OFFERS[lang], text, re.IGNORECASE)
    return found.group(0).lower() if found else None


def offers_when_closed(flow: Flow) -> list[tuple[str, str, str, str]]:
    """(node, language, prompt, word) for every offer a closed line could say."""
    found = []
    for name in sorted(reachable_when_closed(flow)):
        for key in spoken_prompts(flow.node(name)):
            for lang in LANGUAGES:
                word = offer_in(CATALOG.texts[lang][key], lang)
                if word and MENTIONS.get((lang, key)) != word:
                    found.append((name, lang, key, word))
    return found


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(PROJECT_ROOT / "flows")


def test_no_prompt_a_closed_line_can_say_offers_a_person_a_department_or_a_transfer(flow):
    assert offers_when_closed(flow) == []


def test_the_walk_covers_the_after_hours_line_and_none_of_the_open_one(flow):
    reached = reachable_when_closed(flow)
    assert {"after_hours_menu", "info_menu", "info_more", "status_menu_closed", "report_type", "closed_holiday",
            "closed_emergency", "people_closed_regular", "people_closed_emergency", "interpretation_closed",
            "goodbye_closed"} <= reached
    assert not reached & {"main_menu", "departments", "status_menu_open", "representative_queue"}
    assert not [name for name in reached if flow.node(name).kind in ("queue", "transfer")]


@pytest.mark.parametrize(("text", "lang", "word"), [
    ("Bulky items are picked up by appointment, or speak with a representative.", "en", "speak with a"),
    ("To reach a city department, press 4.", "en", "department"),
    ("Connecting you to Public Works.", "en", "connecting"),
    ("O hable con un representante.", "es", "representante"),
    ("Le comunicamos con Obras Públicas. Por favor, espere.", "es", "comunicamos"),
    ("Para comunicarse con un departamento de la ciudad, oprima 4.", "es", "comunicarse"),
])
def test_the_check_would_catch_an_offer(text, lang, word):
    assert offer_in(text, lang) == word


def test_people_answer_again_is_said_with_the_hours_and_the_911_advisory():
    for lang in LANGUAGES:
        text = CATALOG.texts[lang]["closed.people"]
        assert "{next_opening}" in text and "{hours}" in text and "9-1-1" in text
        assert "{hours}" in CATALOG.texts[lang]["closed.people_emergency"]


# ---- unlisted options ----------------------------------------------------------------------------

MENU = """
nodes:
  start:
    kind: menu
    prompt: [[info.intro, "@options"]]
    options:
      "1": {next: about, label: info.menu.about, say: {en: [about]}}
      "0": {next: bye, OPTION}
  about:
    kind: say
    prompt: info.about
    next: start
  bye:
    kind: hangup
    prompt: common.goodbye
"""


def menu_flow(tmp_path, option: str = "unlisted: true, say: {en: [operator], es: [operador]}") -> Flow:
    """A two-option menu whose 0 option is written as given, loaded and checked against the shipped prompts."""
    (tmp_path / "menu.yaml").write_text(textwrap.dedent(MENU).replace("OPTION", option), encoding="utf-8")
    flow = load_flow(tmp_path)
    validate(flow, CATALOG, actions=set(), conditions=set(), directories={})
    return flow


class World:
    """No conditions, actions or directories: a menu and a goodbye need nothing else."""

    def prompt_values(self, ctx, lang):
        return {}

    def directory(self, name):
        return []


def heard(outcome) -> list[str]:
    """Everything said, prompts inside the final listen included."""
    said = [step.text for step in outcome.steps if isinstance(step, Speak)]
    return said + [p.text for step in outcome.steps if isinstance(step, Listen) for p in step.prompts]


def test_an_unlisted_option_is_accepted_but_never_read(tmp_path):
    engine = Engine(menu_flow(tmp_path), CATALOG, SETTINGS)
    menu = heard(engine.advance(Turn(), World()))
    assert menu == ["City information. Say a topic, or press 1 to hear what 311 does,"]
    for said in ({"digits": "0"}, {"speech": "operator please"}):
        outcome = engine.advance(Turn(node="start", event="gather", **said), World())
        assert outcome.trail == ["bye"]
    listen = engine.advance(Turn(), World()).steps[-1]
    assert "operator" in listen.hints  # still recognised as a word of this menu


def test_an_unlisted_option_takes_no_label(tmp_path):
    with pytest.raises(FlowError, match=r"option '0': an unlisted option is never read, so it takes no label"):
        menu_flow(tmp_path, "unlisted: true, label: menu.representative")


def test_unlisted_is_true_or_false(tmp_path):
    with pytest.raises(FlowError, match=r"option '0': 'unlisted' is true or false"):
        menu_flow(tmp_path, "unlisted: sometimes")


def test_a_listed_option_still_needs_its_label(tmp_path):
    with pytest.raises(FlowError, match=r"option '0' has no label, but the prompt reads '@options'"):
        menu_flow(tmp_path, "say: {en: [operator]}")


def test_the_diagram_marks_an_unlisted_key(tmp_path):
    menu_flow(tmp_path)
    assert '|"0 (unlisted)"| n_bye' in generate(tmp_path)
