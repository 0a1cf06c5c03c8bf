"""Emergency situations (ivr/core/emergency.py) and the 911 advisory in the engine: corpora, tricky cases, state.

The corpora are tests/data/emergency_en.tsv and emergency_es.tsv (sentence <TAB> emergency|not). To see the
figures: .venv/bin/python -m pytest tests/core/test_emergency.py -k corpus -q -rP
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ivr.core.emergency import RULES, detect, is_emergency, prepare
from ivr.core.engine import ADVISED_KEY, ActionResult, Engine, Listen, Speak, Turn
from ivr.core.flows import load_flow, validate
from ivr.core.prompts import LANGUAGES, load_catalog
from ivr.core.words import fold_accents
from ivr.settings import SpeechSettings

DATA = Path(__file__).resolve().parent.parent / "data"
MIN_EMERGENCIES, MIN_LOOK_ALIKES = 60, 100
MAX_FALSE_ALARMS = 0.02


def corpus(lang: str) -> list[tuple[str, bool]]:
    """(sentence, is an emergency) for every line of a corpus that is not a note."""
    rows = []
    for number, line in enumerate((DATA / f"emergency_{lang}.tsv").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        sentence, label = line.split("\t")
        assert label in ("emergency", "not"), f"emergency_{lang}.tsv:{number}: label {label!r}"
        rows.append((sentence, label == "emergency"))
    return rows


# ---- the corpora ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_corpus_is_big_enough_and_says_each_sentence_once(lang):
    rows = corpus(lang)
    sentences = [sentence for sentence, _ in rows]
    assert len(sentences) == len(set(sentences))
    assert sum(1 for _, emergency in rows if emergency) >= MIN_EMERGENCIES
    assert sum(1 for _, emergency in rows if not emergency) >= MIN_LOOK_ALIKES


@pytest.mark.parametrize("lang", LANGUAGES)
def test_corpus_every_emergency_is_heard_and_look_alikes_almost_never(lang):
    rows = corpus(lang)
    emergencies = [sentence for sentence, emergency in rows if emergency]
    look_alikes = [sentence for sentence, emergency in rows if not emergency]
    missed = [sentence for sentence in emergencies if not is_emergency(sentence)]
    false_alarms = [(sentence, detect(sentence)) for sentence in look_alikes if is_emergency(sentence)]
    recall = 1 - len(missed) / len(emergencies)
    false_alarm_rate = len(false_alarms) / len(look_alikes)
    print(f"{lang}: recall {recall:.1%} ({len(emergencies) - len(missed)}/{len(emergencies)}), "
          f"false alarms {false_alarm_rate:.1%} ({len(false_alarms)}/{len(look_alikes)})")
    for sentence, finding in false_alarms:
        print(f"  false alarm: {sentence!r} -> {finding}")
    assert missed == [], f"missed emergencies ({lang}): {missed}"
    assert false_alarm_rate <= MAX_FALSE_ALARMS, f"false alarms ({lang}): {false_alarms}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_capitals_and_missing_accents_change_nothing(lang):
    """Recognisers differ in case and accents; the verdict must not."""
    for sentence, _ in corpus(lang):
        assert is_emergency(sentence.upper()) == is_emergency(sentence), sentence
        assert is_emergency(fold_accents(sentence)) == is_emergency(sentence), sentence


def test_every_rule_is_needed_by_the_corpora():
    """A rule no sentence needs is untested logic: each one fires on at least one corpus emergency."""
    emergencies = [sentence for lang in LANGUAGES for sentence, emergency in corpus(lang) if emergency]
    kinds_heard = {detect(sentence).kind for sentence in emergencies}
    assert {rule.kind for rule in RULES} <= kinds_heard


# ---- tricky cases -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("speech", "kind"), [
    # negation, and where a comma ends it
    ("there is no fire", None),
    ("no one is hurt, the car just hit the pole", None),
    ("nadie está herido", None),
    ("no hay heridos", None),
    ("it's not an emergency", None),
    ("no es una emergencia", None),
    ("No, there's a fire in the kitchen", "fire"),
    ("no hay humo pero huele a gas", "gas"),
    ("he isn't breathing", "breathing"),  # the negation is the emergency itself
    ("no respira", "breathing"),
    ("if there's a fire in my building where do I go", None),
    # told as over, or as a habit
    ("there was a fire last year", None),
    ("hubo un incendio el año pasado", None),
    ("my car was broken into last week", None),
    ("ayer entraron a robar a la casa", None),
    ("the other day someone got shot on my street", None),
    ("el otro día le dispararon a un muchacho", None),
    ("my neighbors fight every night", None),
    ("siempre me roban los paquetes", None),
    ("they fixed the gas leak but the road is a mess", None),
    ("the car that was on fire is still in the street", None),
    # ... unless it is still going on
    ("he's had chest pain since last night", "heart"),
    ("someone broke in last night and they're still in the house", "break_in"),
    ("anoche entraron y todavía están adentro", "break_in"),
    ("a man got shot a few minutes ago", "shooting"),
    ("no hay agua caliente desde hace tres días", None),
    # look-alikes, alone and next to a real emergency
    ("the fire hydrant is leaking", None),
    ("cars park in the fire lane", None),
    ("I need a fire department inspection", None),
    ("help me with my trash", None),
    ("can you help me report a pothole", None),
    ("I took a shot of the pothole", None),
    ("the heart of the city", None),
    ("I'm dying to know", None),
    ("this traffic is killing me", None),
    ("the gas station on Main Street", None),
    ("the smoke detector battery is chirping", None),
    ("me muero de hambre", None),
    ("la boca de incendios está goteando", None),
    ("the hydrant is fine, the house next to it is on fire", "fire"),
    ("someone is robbing the gas station right now", "crime"),
    # Spanish inflections: in progress, or told afterwards
    ("están robando en la casa de al lado", "crime"),
    ("me robaron la bicicleta", None),
    ("la casa se está quemando", "fire"),
    ("la casa se quemó", None),
    ("le están pegando a un señor", "crime"),
    ("están pegando anuncios en los postes", None),
    ("están tirando basura en el lote", None),
    ("le pegaron un tiro", "shooting"),
    ("me quiero matar", "self_harm"),
    ("la velocidad de los carros va a matar a alguien", None),
    # contractions, however the recogniser writes them
    ("she can't breathe", "breathing"),
    ("she cant breathe", "breathing"),
    ("He’s been shot", "shooting"),
    # sparks: decided in the corpus notes
    ("the streetlight is shooting sparks", "wires"),
    ("the streetlight sparked last night and now it's out", None),
    ("the streetlight is flickering", None),
    # cries, and requests for help
    ("Help!", "cry"),
    ("¡Auxilio!", "cry"),
    ("help me with my water bill", None),
    ("ayúdeme con la basura", None),
    # a caller who mixes languages
    ("my neighbor no respira", "breathing"),
    # nothing to hear
    (None, None),
    ("", None),
    ("1 2 3 4", None),
])
def test_tricky_cases(speech, kind):
    finding = detect(speech)
    assert (finding.kind if finding else None) == kind, finding


def test_prepare_spells_out_contractions():
    assert prepare("There's a man, he can't breathe and won't wake up!") == (
        "there s a man he can not breathe and will not wake up")
    assert prepare("theyre breaking in, cant stop them") == "they are breaking in can not stop them"


def test_a_finding_says_which_words_counted():
    finding = detect("Please hurry, someone is breaking into my neighbor's house!")
    assert (finding.kind, finding.said) == ("break_in", "breaking into")


# ---- the advisory in the engine -------------------------------------------------------------------------

PROMPTS = {
    "en": """
        voice: en-voice
        language: en-US
        prompts:
          menu: Main menu.
          for_ask: To be asked, press {key}.
          for_other: For the other, press {key}.
          ask: What happened?
          thanks: Thanks.
          common.retry: Sorry.
          common.emergency: Call 9-1-1, or press {key} to go on.
          common.emergency_menu: Call 9-1-1, or choose.
          keys.star: star
          keys.pound: pound
    """,
    "es": """
        voice: es-voice
        language: es-US
        prompts:
          menu: Menú principal.
          for_ask: Para la pregunta, oprima {key}.
          for_other: Para lo otro, oprima {key}.
          ask: ¿Qué pasó?
          thanks: Gracias.
          common.retry: Perdón.
          common.emergency: Llame al 9-1-1, u oprima {key} para seguir.
          common.emergency_menu: Llame al 9-1-1, o elija.
          keys.star: asterisco
          keys.pound: numeral
    """,
}
FLOW = """
    nodes:
      start:
        kind: menu
        prompt: [[menu, "@options"]]
        options:
          "1": {next: ask, label: for_ask, say: {en: [ask], es: [pregunta]}}
          "2": {next: other, label: for_other, say: {en: [other], es: [otro]}}
      ask:
        kind: input
        prompt: ask
        input: dtmf speech
        num_digits: 4
        finish_on_key: "#"
        action: take
        results: {ok: thanks, invalid: "@retry"}
      other:
        kind: hangup
        prompt: thanks
      thanks:
        kind: hangup
        prompt: thanks
"""
SETTINGS = SpeechSettings(max_attempts=3, max_failures_per_call=2, timeout=8, speech_timeout="auto")
ADVISORY_MENU = Speak("Call 9-1-1, or choose.", "en")
ADVISORY_QUESTION = Speak("Call 9-1-1, or press 1 to go on.", "en")


class Services:
    """The world for the small flow; records the words the action was given."""

    def __init__(self):
        self.taken: list[tuple[str | None, str | None]] = []

    def condition(self, name, ctx):
        raise AssertionError(name)

    def run_action(self, name, ctx):
        self.taken.append((ctx.digits, ctx.speech))
        return ActionResult("ok")

    def directory(self, name):
        return []

    def prompt_values(self, ctx, lang):
        return {}

    def transfer_destination(self, to, ctx):
        return None

    def representative(self, ctx):
        raise AssertionError("no representatives here")


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("emergency")
    (folder / "prompts").mkdir()
    (folder / "flows").mkdir()
    for lang, text in PROMPTS.items():
        (folder / "prompts" / f"{lang}.yaml").write_text(textwrap.dedent(text))
    (folder / "flows" / "flow.yaml").write_text(textwrap.dedent(FLOW))
    flow, catalog = load_flow(folder / "flows"), load_catalog(folder / "prompts")
    validate(flow, catalog, {"take"}, set(), {})
    return Engine(flow, catalog, SETTINGS)


def at(node: str, **fields) -> Turn:
    """A caller's input at a node."""
    return Turn(node=node, **({"event": "gather"} | fields))


def advised(node: str, awaiting: bool) -> dict:
    """The answers of a call that has heard the advisory at `node`."""
    return {ADVISED_KEY: {"node": node, "awaiting": awaiting}}


def test_at_a_menu_the_advisory_comes_with_the_menu_and_its_keys_unchanged(engine):
    outcome = engine.advance(at("start", speech="my kitchen is on fire"), Services())
    assert outcome.emergency and len(outcome.steps) == 1
    listen = outcome.steps[0]
    assert listen.prompts == (ADVISORY_MENU, Speak("Main menu. To be asked, press 1. For the other, press 2.", "en"))
    assert (listen.node, listen.num_digits) == ("start", 1)
    assert outcome.answers == advised("start", awaiting=False)


def test_at_a_question_the_advisory_is_said_alone_and_offers_its_own_key(engine):
    services = Services()
    outcome = engine.advance(at("ask", attempt=2, speech="someone is breaking in right now"), services)
    assert outcome.emergency and services.taken == []
    listen = outcome.steps[-1]
    assert isinstance(listen, Listen) and listen.prompts == (ADVISORY_QUESTION,)
    # One key answers the advisory, whatever the question itself would take; the attempt is kept.
    assert (listen.node, listen.attempt, listen.num_digits, listen.finish_on_key) == ("ask", 2, 1, None)
    assert outcome.answers == advised("ask", awaiting=True)


@pytest.mark.parametrize("turn", [at("ask", attempt=2, digits="1"), at("ask", attempt=2, speech="one"),
                                  at("ask", attempt=2, event="silence")])
def test_after_the_advisory_1_or_silence_asks_the_question_again(engine, turn):
    services = Services()
    outcome = engine.advance(Turn(**{**turn.__dict__, "answers": advised("ask", awaiting=True)}), services)
    assert not outcome.emergency and services.taken == []
    listen = outcome.steps[-1]
    assert listen.prompts == (Speak("What happened?", "en"),) and (listen.attempt, listen.num_digits) == (2, 4)
    assert outcome.answers == advised("ask", awaiting=False)


@pytest.mark.parametrize(("digits", "speech"), [(None, "someone is breaking in right now"), ("2024", None)])
def test_after_the_advisory_anything_else_is_the_answer(engine, digits, speech):
    services = Services()
    outcome = engine.advance(at("ask", digits=digits, speech=speech, answers=advised("ask", awaiting=True)),
                             services)
    assert not outcome.emergency and services.taken == [(digits, speech)]


def test_the_same_emergency_again_at_a_menu_is_the_menus_answer(engine):
    outcome = engine.advance(at("start", speech="my kitchen is on fire", answers=advised("start", False)),
                             Services())
    assert not outcome.emergency
    assert [s.text for s in outcome.steps if isinstance(s, Speak)] == ["Sorry."]  # matched no choice


def test_an_advisory_given_at_another_prompt_is_forgotten(engine):
    outcome = engine.advance(at("start", speech="my kitchen is on fire", answers=advised("ask", False)), Services())
    assert outcome.emergency and outcome.answers == advised("start", awaiting=False)
    outcome = engine.advance(at("start", digits="2", answers=advised("ask", False)), Services())
    assert ADVISED_KEY not in outcome.answers


def test_the_advisory_speaks_the_callers_language(engine):
    outcome = engine.advance(at("ask", lang="es", speech="mi cocina se está quemando"), Services())
    assert outcome.steps[-1].prompts == (Speak("Llame al 9-1-1, u oprima 1 para seguir.", "es"),)


def test_keys_are_never_an_emergency(engine):
    assert not engine.advance(at("start", digits="9"), Services()).emergency
