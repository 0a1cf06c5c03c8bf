"""The call engine (ivr/core/engine.py) on a small flow, with a fake Services: no Flask, Twilio or database."""

import dataclasses
import subprocess
import sys
import textwrap

import pytest

from ivr.core.engine import (
    MAX_NODES_PER_TURN,
    ActionResult,
    Destination,
    DirectoryEntry,
    Engine,
    Enqueue,
    FlowRuntimeError,
    Hangup,
    Listen,
    QueueTarget,
    RecordMessage,
    Speak,
    Transfer,
    Turn,
)
from ivr.core.flows import KINDS, load_flow, validate
from ivr.core.prompts import load_catalog
from ivr.settings import PROJECT_ROOT, SpeechSettings

EN = """
voice: en-voice
language: en-US
prompts:
  menu: Main menu.
  for_hours: For hours, press {key}.
  for_spanish: For Spanish, press {key}.
  for_code: For a code, press {key}.
  for_department: For a department, press {key}.
  for_loop: To go round in circles, press {key}.
  for_gate: To check the hours, press {key}.
  for_person: For a person, press {key}.
  for_hours_again: For hours again, press {key}.
  hours: We are open {hours}.
  common.retry: Sorry.
  common.emergency: Call 9-1-1, or press {key} to go on.
  common.emergency_menu: Call 9-1-1, or choose.
  keys.star: star
  keys.pound: pound
  bad_code: That code is wrong.
  code_ok: Code {code} accepted.
  ask_code: Enter your code.
  operator: Please hold.
  goodbye: Goodbye.
  closed: We are closed.
  dept_intro: Departments.
  dept_item: For {name}, press {digit}.
  connecting: Connecting you to {department}.
  no_answer: Nobody answered.
  record_ask: Leave a message.
  loop: Again and again.
"""
ES = """
voice: es-voice
language: es-US
prompts:
  menu: Menú principal.
  for_hours: Para el horario, oprima {key}.
  for_spanish: Para español, oprima {key}.
  for_code: Para un código, oprima {key}.
  for_department: Para un departamento, oprima {key}.
  for_loop: Para dar vueltas, oprima {key}.
  for_gate: Para ver el horario, oprima {key}.
  for_person: Para una persona, oprima {key}.
  for_hours_again: Para el horario otra vez, oprima {key}.
  hours: Abrimos {hours}.
  common.retry: Perdón.
  common.emergency: Llame al 9-1-1, u oprima {key} para seguir.
  common.emergency_menu: Llame al 9-1-1, o elija.
  keys.star: asterisco
  keys.pound: numeral
  bad_code: Ese código no es válido.
  code_ok: Código {code} aceptado.
  ask_code: Marque su código.
  operator: Por favor, espere.
  goodbye: Adiós.
  closed: Estamos cerrados.
  dept_intro: Departamentos.
  dept_item: Para {name}, oprima {digit}.
  connecting: Le comunicamos con {department}.
  no_answer: Nadie contestó.
  record_ask: Deje un mensaje.
  loop: Otra vez.
"""
FLOW = """
defaults:
  on_fail: operator
nodes:
  start:
    kind: menu
    prompt: [[menu, "@options"]]
    options:
      "1": {next: hours, label: for_hours, say: {en: [hours, open], es: [horario]}}
      "2": {next: start, set_lang: es, label: {key: for_spanish, lang: es}, say: {en: [spanish], es: [espanol]}}
      "3": {next: code, label: for_code, say: {en: [code], es: [codigo]}}
      "4": {next: depts, label: for_department, say: {en: [department], es: [departamento]}}
      "5": {next: loop_a, label: for_loop}
      "6": {next: gate, label: for_gate}
      "0": {next: operator, label: for_person, say: {en: [operator, person], es: [operador, persona]}}
      "*9": {next: hours, label: for_hours_again}
  hours:
    kind: say
    prompt: hours
    next: start
  code:
    kind: input
    prompt: ask_code
    action: check_code
    num_digits: 4
    finish_on_key: "#"
    max_attempts: 2
    on_fail: goodbye
    results: {ok: code_ok, bad: "@retry"}
  code_ok:
    kind: hangup
    prompt: code_ok
  gate:
    kind: branch
    when: is_open
    then: start
    else: closed
  closed:
    kind: hangup
    prompt: closed
  quiet:
    kind: menu
    prompt: menu
    options:
      "1": hours
    on_silence: {next: start, set_lang: es}
  depts:
    kind: menu
    prompt: [dept_intro, "@items"]
    directory: departments
    item_prompt: dept_item
    directory_next: transfer
    options:
      "*": start
  transfer:
    kind: transfer
    to: department
    prompt: connecting
    on_no_answer: no_answer
  no_answer:
    kind: say
    prompt: no_answer
    next: start
  operator:
    kind: queue
    prompt: operator
    on_fail: goodbye
  message:
    kind: record
    prompt: record_ask
    action: check_code
    max_length: 30
    results: {ok: goodbye, bad: goodbye}
  goodbye:
    kind: hangup
    prompt: goodbye
  loop_a:
    kind: say
    prompt: loop
    next: loop_b
  loop_b:
    kind: branch
    when: is_open
    then: loop_a
    else: loop_a
"""
SETTINGS = SpeechSettings(max_attempts=3, max_failures_per_call=2, timeout=8, speech_timeout="auto")


class FakeServices:
    """The world as a test wants it; records what the engine asked for."""

    def __init__(self, open_=True, code_result="ok", destination=True):
        self.open = open_
        self.code_result = code_result
        self.destination = destination
        self.actions_run: list[str] = []

    def condition(self, name, ctx):
        assert name == "is_open"
        return self.open

    def run_action(self, name, ctx):
        self.actions_run.append(name)
        if self.code_result == "ok":
            return ActionResult("ok", values={"code": ctx.digits})
        return ActionResult(self.code_result, say=("bad_code",))

    def directory(self, name):
        assert name == "departments"
        return [DirectoryEntry("1", "dpw", {"en": "Public Works", "es": "Obras Públicas"},
                               {"en": ("public works",), "es": ("obras publicas",)}),
                DirectoryEntry("2", "parks", {"en": "Parks", "es": "Parques"}, {"en": ("parks",), "es": ("parques",)})]

    def prompt_values(self, ctx, lang):
        return {"hours": "9 to 5" if lang == "en" else "de 9 a 5",
                "department": {"dpw": "Public Works", "parks": "Parks"}.get(ctx.answers.get("departments"), "")}

    def transfer_destination(self, to, ctx):
        assert to == "department"
        if not self.destination:
            return None
        return Destination("+18605550110", label=ctx.answers.get("departments"), timeout=20)

    def representative(self, ctx):
        return QueueTarget(mode="enqueue", name=f"queue-{ctx.lang}", attributes={"selected_language": ctx.lang})


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("engine")
    (root / "prompts").mkdir()
    (root / "flows").mkdir()
    (root / "prompts" / "en.yaml").write_text(textwrap.dedent(EN))
    (root / "prompts" / "es.yaml").write_text(textwrap.dedent(ES))
    (root / "flows" / "test.yaml").write_text(textwrap.dedent(FLOW))
    catalog = load_catalog(root / "prompts")
    flow = load_flow(root / "flows")
    validate(flow, catalog, actions={"check_code"}, conditions={"is_open"}, directories={"departments": ("1", "2")})
    return Engine(flow, catalog, SETTINGS)


def texts(outcome) -> list[str]:
    """Everything said, in order, prompts inside listens included."""
    said = []
    for step in outcome.steps:
        if isinstance(step, Speak):
            said.append(step.text)
        elif isinstance(step, Listen | RecordMessage):
            said.extend(p.text for p in step.prompts)
    return said


def last(outcome):
    """The final step of an outcome."""
    return outcome.steps[-1]


def at(node: str, **fields) -> Turn:
    """A caller's input at a node."""
    return Turn(node=node, **({"event": "gather"} | fields))


# ---- menus ---------------------------------------------------------------------------------------

def test_arrival_enters_the_start_node(engine):
    outcome = engine.advance(Turn(), FakeServices())
    listen = last(outcome)
    assert isinstance(listen, Listen) and (listen.node, listen.attempt, listen.lang) == ("start", 1, "en")
    # The labels are read in option order, their keys filled in; one sentence per run of one language.
    assert [(p.text, p.lang) for p in listen.prompts] == [
        ("Main menu. For hours, press 1.", "en"),
        ("Para español, oprima 2.", "es"),  # a label fixed to a language ignores the caller's
        ("For a code, press 3. For a department, press 4. To go round in circles, press 5. "
         "To check the hours, press 6. For a person, press 0. For hours again, press star 9.", "en"),
    ]
    assert listen.timeout == 8 and listen.input == ("dtmf", "speech")
    assert outcome.trail == ["start"]


def test_a_menu_listens_for_as_many_keys_as_its_longest_choice(engine):
    assert last(engine.advance(Turn(), FakeServices())).num_digits == 2  # "*9"
    listen = last(engine.advance(at("start", digits="3"), FakeServices()))
    assert (listen.node, listen.num_digits, listen.finish_on_key) == ("code", 4, "#")


def test_a_directory_menu_listens_for_one_key(engine):
    assert last(engine.advance(at("start", digits="4"), FakeServices())).num_digits == 1


@pytest.mark.parametrize("fields", [{"digits": "1"}, {"digits": "1#"}, {"speech": "press one"},
                                    {"speech": "When are you open?"}, {"speech": "horario"}])
def test_menu_choice_by_key_spoken_key_or_word(engine, fields):
    outcome = engine.advance(at("start", **fields), FakeServices())
    assert texts(outcome)[0] == "We are open 9 to 5."
    assert outcome.trail == ["hours", "start"]


def test_menu_hints_are_the_callers_language_words(engine):
    listen = last(engine.advance(Turn(), FakeServices()))
    assert listen.hints == ("hours", "open", "spanish", "code", "department", "operator", "person")


def test_words_match_whole_words_only(engine):
    outcome = engine.advance(at("start", speech="codependent"), FakeServices())
    assert texts(outcome)[0] == "Sorry."


def test_set_lang_switches_the_call_to_spanish(engine):
    outcome = engine.advance(at("start", digits="2"), FakeServices())
    listen = last(outcome)
    assert outcome.lang == "es" and listen.lang == "es"
    assert listen.prompts == (Speak(
        "Menú principal. Para el horario, oprima 1. Para español, oprima 2. Para un código, oprima 3. "
        "Para un departamento, oprima 4. Para dar vueltas, oprima 5. Para ver el horario, oprima 6. "
        "Para una persona, oprima 0. Para el horario otra vez, oprima asterisco 9.", "es"),)
    assert listen.hints[:2] == ("horario", "espanol")


def test_the_language_holds_on_later_turns(engine):
    outcome = engine.advance(at("start", lang="es", digits="1"), FakeServices())
    assert texts(outcome)[0] == "Abrimos de 9 a 5." and outcome.lang == "es"


def test_an_unknown_language_falls_back_to_english(engine):
    assert engine.advance(Turn(lang="fr"), FakeServices()).lang == "en"


def test_silence_can_lead_elsewhere_and_switch_language(engine):
    outcome = engine.advance(at("quiet", event="silence"), FakeServices())
    assert outcome.lang == "es" and last(outcome).node == "start"


def test_directory_choice_is_remembered(engine):
    services = FakeServices()
    listen = last(engine.advance(at("start", digits="4"), services))
    assert [p.text for p in listen.prompts] == ["Departments.", "For Public Works, press 1.", "For Parks, press 2."]
    outcome = engine.advance(at("depts", speech="parks please"), services)
    assert outcome.answers["departments"] == "parks"
    assert texts(outcome) == ["Connecting you to Parks."]
    transfer = last(outcome)
    assert isinstance(transfer, Transfer) and transfer.destination.number == "+18605550110"
    assert outcome.end_reason == "transfer:department:parks"


# ---- retries -------------------------------------------------------------------------------------

def test_wrong_key_reprompts_with_the_next_attempt(engine):
    outcome = engine.advance(at("start", digits="7"), FakeServices())
    assert texts(outcome)[0] == "Sorry."
    assert isinstance(last(outcome), Listen) and last(outcome).attempt == 2 and last(outcome).node == "start"
    assert outcome.end_reason is None


def test_silence_counts_like_a_wrong_key(engine):
    outcome = engine.advance(at("start", attempt=2, event="silence"), FakeServices())
    assert last(outcome).attempt == 3


def test_after_the_last_attempt_the_flow_default_on_fail(engine):
    outcome = engine.advance(at("start", attempt=3, digits="7"), FakeServices())
    # The start menu speaks both languages, so its apology does too.
    assert texts(outcome) == ["Sorry.", "Perdón.", "Please hold."]
    assert isinstance(last(outcome), Enqueue) and last(outcome).target.name == "queue-en"
    assert outcome.trail == ["operator"]


def test_max_attempts_and_on_fail_of_a_node(engine):
    services = FakeServices(code_result="bad")
    first = engine.advance(at("code", digits="1111"), services)
    assert texts(first) == ["That code is wrong.", "Enter your code."]  # the action's own apology
    assert last(first).attempt == 2
    second = engine.advance(at("code", attempt=2, digits="2222"), services)
    assert texts(second) == ["That code is wrong.", "Goodbye."]  # max_attempts 2, on_fail goodbye
    assert isinstance(last(second), Hangup) and second.end_reason == "too_many_tries"
    assert services.actions_run == ["check_code", "check_code"]


def test_an_action_result_continues_with_its_values(engine):
    outcome = engine.advance(at("code", digits="1234"), FakeServices())
    assert texts(outcome) == ["Code 1234 accepted."]
    assert outcome.answers["code"] == "1234"


def test_an_unmapped_action_result_is_a_runtime_error(engine):
    with pytest.raises(FlowRuntimeError, match="unmapped 'maybe'"):
        engine.advance(at("code", digits="1234"), FakeServices(code_result="maybe"))


def test_settings_max_attempts_applies_where_the_node_has_none(tmp_path, engine):
    strict = Engine(engine.flow, engine.catalog, dataclasses.replace(SETTINGS, max_attempts=1))
    outcome = strict.advance(at("start", digits="7"), FakeServices())
    assert isinstance(last(outcome), Enqueue)


# ---- emergencies ---------------------------------------------------------------------------------

def test_an_emergency_interrupts_and_keeps_the_attempt(engine):
    services = FakeServices()
    outcome = engine.advance(at("code", attempt=2, speech="There's a FIRE next door"), services)
    assert outcome.emergency
    listen = last(outcome)
    # At an input the advisory is said alone, offering its own key; one key answers it.
    assert outcome.steps == [listen] and listen.prompts == (Speak("Call 9-1-1, or press 1 to go on.", "en"),)
    assert (listen.node, listen.attempt, listen.num_digits, listen.finish_on_key) == ("code", 2, 1, None)
    assert services.actions_run == []  # the input was not taken as a code


def test_an_emergency_in_spanish_is_answered_in_the_callers_language(engine):
    outcome = engine.advance(at("start", lang="es", speech="¡Hay un incendio!"), FakeServices())
    # At a menu the menu follows in the same listen, its keys unchanged.
    assert last(outcome).prompts[0] == Speak("Llame al 9-1-1, o elija.", "es")
    assert last(outcome).prompts[1].text.startswith("Menú principal.")
    assert last(outcome).node == "start" and last(outcome).lang == "es"


def test_emergency_phrases_match_as_phrases(engine):
    assert engine.advance(at("start", speech="he is not breathing"), FakeServices()).emergency
    assert not engine.advance(at("start", speech="breathing is not a problem"), FakeServices()).emergency
    assert not engine.advance(at("start", speech="fireplace"), FakeServices()).emergency


def test_digits_are_never_an_emergency(engine):
    assert not engine.advance(at("start", digits="9"), FakeServices()).emergency


# ---- transfers, queues, recordings ---------------------------------------------------------------

def test_transfer_answered_ends_the_call(engine):
    outcome = engine.advance(at("transfer", event="dial", dial_status="completed",
                                answers={"departments": "dpw"}), FakeServices())
    assert outcome.steps == [Hangup()] and outcome.end_reason == "transfer_completed:department"


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", None])
def test_transfer_not_answered_takes_the_fallback(engine, status):
    outcome = engine.advance(at("transfer", event="dial", dial_status=status), FakeServices())
    assert texts(outcome)[0] == "Nobody answered."
    assert outcome.end_reason == f"transfer_{status or 'failed'}:department"


def test_a_transfer_with_nowhere_to_go_takes_the_fallback_at_once(engine):
    outcome = engine.advance(at("depts", digits="1"), FakeServices(destination=False))
    assert texts(outcome)[0] == "Nobody answered."
    assert not any(isinstance(step, Transfer) for step in outcome.steps)


@pytest.mark.parametrize(("result", "reason"), [("bridged", "representative_answered"),
                                                ("hangup", "hung_up_in_queue")])
def test_queue_left_by_talking_or_hanging_up(engine, result, reason):
    outcome = engine.advance(at("operator", event="queue", queue_result=result), FakeServices())
    assert outcome.steps == [Hangup()] and outcome.end_reason == reason


def test_queue_failure_takes_on_fail(engine):
    outcome = engine.advance(at("operator", event="queue", queue_result="queue-full"), FakeServices())
    assert texts(outcome) == ["Goodbye."] and outcome.end_reason == "queue_queue-full"


def test_representative_reached_by_dial_reports_like_a_queue(engine):
    outcome = engine.advance(at("operator", event="dial", dial_status="completed"), FakeServices())
    assert outcome.end_reason == "representative_answered"


def test_record_node(engine):
    services = FakeServices()
    outcome = engine.advance(at("message", event="record", recording_url="https://x/RE1", recording_seconds=5),
                             services)
    assert services.actions_run == ["check_code"] and texts(outcome) == ["Goodbye."]


# ---- loops and bad positions ---------------------------------------------------------------------

def test_a_loop_without_listening_is_a_runtime_error(engine):
    with pytest.raises(FlowRuntimeError, match=f"more than {MAX_NODES_PER_TURN} nodes without listening"):
        engine.advance(at("start", digits="5"), FakeServices())


def test_an_unknown_event_is_a_runtime_error(engine):
    with pytest.raises(FlowRuntimeError, match="unknown event 'explode'"):
        engine.advance(at("start", event="explode"), FakeServices())


def test_input_at_a_node_that_does_not_listen_is_a_runtime_error(engine):
    with pytest.raises(FlowRuntimeError, match="does not take input"):
        engine.advance(at("gate", digits="1"), FakeServices())


@pytest.mark.parametrize(("open_", "said"), [(True, "Main menu. For hours, press 1."), (False, "We are closed.")])
def test_branch_follows_the_condition(engine, open_, said):
    outcome = engine.advance(at("start", digits="6"), FakeServices(open_=open_))
    assert texts(outcome)[0].startswith(said)
    assert outcome.trail == ["gate", "start" if open_ else "closed"]


def test_the_engine_imports_no_web_or_database_code():
    """flows, prompts and engine stay pure (DESIGN §2), so they are loaded here without ivr/__init__."""
    probe = (
        "import pathlib, sys, types\n"
        "pkg = types.ModuleType('ivr'); pkg.__path__ = [str(pathlib.Path('ivr'))]; sys.modules['ivr'] = pkg\n"
        "import ivr.core.engine, ivr.core.flows, ivr.core.prompts\n"
        "print([m for m in ('flask', 'twilio', 'sqlalchemy') if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---- one handler per node kind -------------------------------------------------------------------

def test_every_node_kind_has_an_engine_handler_and_every_handler_a_kind():
    assert set(Engine.ENTER) == set(KINDS)


def test_the_kinds_that_listen_are_the_ones_the_engine_listens_at():
    listening = {kind for kind, handler in Engine.ENTER.items() if handler is Engine._enter_listening}
    assert listening == {kind for kind, spec in KINDS.items() if spec.listens} == {"menu", "input", "record"}


# ---- the shipped menus, generated from the flow ---------------------------------------------------

class OpenLine:
    """Just enough of the world for the greeting and the main menu: 311 is open."""

    def condition(self, name, ctx):
        return name == "is_open"

    def prompt_values(self, ctx, lang):
        return {}

    def directory(self, name):
        return []


@pytest.fixture(scope="module")
def shipped() -> Engine:
    return Engine(load_flow(PROJECT_ROOT / "flows"), load_catalog(PROJECT_ROOT / "prompts"), SETTINGS)


def heard(outcome) -> list[tuple[str, str]]:
    """(text, language) of each utterance the caller hears, in order."""
    said = [step for step in outcome.steps if isinstance(step, Speak)]
    said += [p for step in outcome.steps if isinstance(step, Listen) for p in step.prompts]
    return [(speak.text, speak.lang) for speak in said]


def test_the_greeting_is_heard_911_first_in_both_languages(shipped):
    assert heard(shipped.advance(Turn(), OpenLine())) == [
        ("City of Hartford 311. For police, fire or medical emergencies, hang up and dial 9-1-1. "
         "For English, press 1.", "en"),
        ("Para español, oprima 2. Si es una emergencia de policía, bomberos o médica, cuelgue y marque 9-1-1.", "es"),
        ("For help in another language, press 3.", "en"),
    ]


@pytest.mark.parametrize(("key", "menu"), [
    ("1", ("Say what you need, or press 1 to report a problem, 2 to check on a case, 3 for city information, "
           "4 to reach a city department, or 0 to speak with a representative.", "en")),
    ("2", ("Diga lo que necesita, u oprima 1 para reportar un problema, 2 para consultar un caso, "
           "3 para información de la ciudad, 4 para comunicarse con un departamento de la ciudad, "
           "o 0 para hablar con un representante.", "es")),
])
def test_the_generated_main_menu_is_heard_as_one_speech_led_sentence(shipped, key, menu):
    outcome = shipped.advance(at("start", digits=key), OpenLine())
    assert last(outcome).node == "main_menu"
    assert heard(outcome) == [menu]


def test_star_is_said_by_name_in_the_labels_language(shipped):
    outcome = shipped.advance(at("main_menu", digits="3"), OpenLine())
    assert heard(outcome)[-1][0].endswith("8 for more choices, or star for the main menu.")
    outcome = shipped.advance(at("main_menu", lang="es", digits="3"), OpenLine())
    assert heard(outcome)[-1][0].endswith("8 para más opciones, o asterisco para el menú principal.")


def test_an_emergency_at_the_greeting_is_answered_in_both_languages_its_labels_speak(shipped):
    outcome = shipped.advance(at("start", speech="there is a fire"), OpenLine())
    assert heard(outcome)[:2] == [
        ("If this is a police, fire or medical emergency, hang up now and dial 9-1-1. "
         "If it is not an emergency, keep talking or choose from the menu.", "en"),
        ("Si es una emergencia de policía, bomberos o médica, cuelgue ahora y marque 9-1-1. "
         "Si no es una emergencia, siga hablando o elija una opción del menú.", "es")]
    assert heard(outcome)[2:] == heard(shipped.advance(Turn(), OpenLine()))  # then the greeting, as at arrival
    assert last(outcome).node == "start" and outcome.emergency
