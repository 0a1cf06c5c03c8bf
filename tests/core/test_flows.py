"""Flows as data (ivr/core/flows.py): every mistake is caught at load time, naming the file, node and key."""

import dataclasses
import shutil
import textwrap

import pytest
from click.testing import CliRunner

import ivr
import ivr.app
from ivr import create_app, load_line
from ivr.cli import main
from ivr.core.flows import KINDS, FlowError, load_flow, validate
from ivr.core.prompts import Catalog, PromptError, load_catalog
from ivr.settings import PROJECT_ROOT, Secrets
from ivr.settings import load as load_settings
from ivr.voice import actions

CATALOG = load_catalog(PROJECT_ROOT / "prompts")
ACTIONS = {"known_action"}
CONDITIONS = {"is_open", "is_emergency_closure"}
DIRECTORIES = {"departments": ("1", "2", "")}  # "": an entry reached by speech only

GOOD = """
defaults:
  on_fail: goodbye
nodes:
  start:
    kind: menu
    prompt: [[info.intro, "@options"]]
    options:
      "1": {next: hours, label: info.menu.hours, say: {en: [hours], es: [horario]}}
      "2": {next: check, set_lang: es, label: {key: greeting.spanish, lang: es}}
      "0": {next: goodbye, label: menu.representative}
  hours:
    kind: say
    prompt: info.hours
    next: check
  check:
    kind: branch
    when: is_open
    then: start
    else: goodbye
  act:
    kind: action
    action: known_action
    results: {ok: goodbye}
  goodbye:
    kind: hangup
    prompt: [common.goodbye, {key: common.goodbye, lang: es}]
"""


def write_flows(tmp_path, text: str = GOOD, name: str = "bad.yaml", **others: str):
    """A flows directory holding one file (plus any others), returned as a path."""
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / name).write_text(textwrap.dedent(text))
    for other, other_text in others.items():
        (flows / f"{other}.yaml").write_text(textwrap.dedent(other_text))
    return flows


def load_and_validate(flows):
    """Load a flows directory and check it against the shipped prompts."""
    flow = load_flow(flows)
    validate(flow, CATALOG, actions=ACTIONS, conditions=CONDITIONS, directories=DIRECTORIES)
    return flow


def broken(tmp_path, old: str, new: str) -> str:
    """Load GOOD with one change and return the FlowError message."""
    assert old in GOOD, old
    flows = write_flows(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(FlowError) as caught:
        load_and_validate(flows)
    return str(caught.value)


def test_a_good_flow_loads(tmp_path):
    flow = load_and_validate(write_flows(tmp_path))
    start = flow.node("start")
    assert start.source == "flows/bad.yaml"
    assert [(o.digits, o.target.node, o.target.set_lang) for o in start.options] == [
        ("1", "hours", None), ("2", "check", "es"), ("0", "goodbye", None)]
    assert start.options[0].words == {"en": ("hours",), "es": ("horario",)}
    assert [(r.key, r.lang) for r in flow.node("goodbye").prompt] == [("common.goodbye", None),
                                                                      ("common.goodbye", "es")]
    assert flow.defaults == {"on_fail": "goodbye"}


# Each: (what to change in GOOD, into what, words the error must contain besides the file name).
BREAKAGES = {
    "unknown node in an option": ("{next: goodbye,", "{next: good_bye,", ["'start'", "option '0'", "'good_bye'"]),
    "unknown node in next": ("next: check\n", "next: chekc\n", ["'hours'", "next", "'chekc'"]),
    "unknown node in else": ("else: goodbye", "else: nowhere", ["'check'", "else", "'nowhere'"]),
    "unknown node in results": ("results: {ok: goodbye}", "results: {ok: gone}", ["'act'", "result 'ok'", "'gone'"]),
    "unknown prompt": ("prompt: info.hours", "prompt: info.hour", ["'hours'", "unknown prompt 'info.hour'"]),
    "unknown prompt in a list": ("[common.goodbye,", "[common.bye,", ["'goodbye'", "unknown prompt 'common.bye'"]),
    "unknown action": ("action: known_action", "action: launch_rocket", ["'act'", "unknown action 'launch_rocket'"]),
    "unknown condition": ("when: is_open", "when: is_raining", ["'check'", "unknown condition 'is_raining'"]),
    "unknown language in set_lang": ("set_lang: es", "set_lang: fr", ["'start'", "unknown language 'fr'"]),
    "unknown language in a prompt": ("common.goodbye, lang: es}", "common.goodbye, lang: de}",
                                     ["'goodbye'", "unknown language 'de'"]),
    "unknown language in words": ("es: [horario]", "pt: [horario]", ["'start'", "option '1'", "unknown language 'pt'"]),
    "unknown kind": ("kind: say", "kind: speak", ["'hours'", "unknown kind 'speak'"]),
    "no kind": ("    kind: say\n", "", ["'hours'", "unknown kind None"]),
    "unknown key": ("    next: check\n", "    next: check\n    timout: 5\n", ["'hours'", "unknown key 'timout'"]),
    "key of another kind": ("    when: is_open\n", "    when: is_open\n    prompt: info.intro\n",
                            ["'check'", "unknown key 'prompt'", "'branch'"]),
    "missing next": ("    next: check\n", "", ["'hours'", "needs 'next'"]),
    "missing else": ("    else: goodbye\n", "", ["'check'", "needs 'else'"]),
    "bad option key": ('"0": {next', '"x": {next', ["'start'", "option 'x' is not a phone key"]),
    "bad input mode": ("    options:\n", "    input: keys\n    options:\n", ["'start'", "input"]),
    "bad target": ('"0": {next: goodbye, label: menu.representative}', '"0": {go: goodbye}', ["'start'", "option '0'"]),
    "bad label": ("label: menu.representative", "label: [menu.representative]", ["'start'", "option '0'", "label"]),
    "bad prompt entry": ("prompt: info.hours", "prompt: [{text: hi}]", ["'hours'", "prompt entries"]),
    "menu without options": ("label: menu.representative}\n", "label: menu.representative}\n  empty:\n"
                             "    kind: menu\n    prompt: info.intro\n", ["'empty'", "options or a directory"]),
    # ---- menu keys live only in the flow: labels read at @options
    "an option without a label": (", label: menu.representative}", "}",
                                  ["'start'", "option '0' has no label, but the prompt reads '@options'"]),
    "a label without {key}": ("label: menu.representative", "label: info.hours",
                              ["'start'", "option '0'", "label 'info.hours' (en) has no {key}"]),
    "a label nothing reads": ('[[info.intro, "@options"]]', "info.intro",
                              ["'start'", "option '1' has a label, but the prompt has no '@options'"]),
    "@options outside a menu": ("prompt: info.hours", 'prompt: [info.hours, "@options"]',
                                ["'hours'", "unknown prompt '@options'"]),
    "unknown label prompt": ("label: menu.representative", "label: menu.operator",
                             ["'start'", "option '0': label: unknown prompt 'menu.operator'"]),
    "unknown label language": ("lang: es}}", "lang: fr}}", ["'start'", "option '2'", "unknown language 'fr'"]),
    "a key given twice": ('"0": {next', '1: {next', ["'start'", "option '1' is given twice"]),
    "a key written twice": ('"0": {next', '"1": {next', ["line 11: key '1' is written twice"]),
    "unknown default": ("on_fail: goodbye", "on_fail: farewell", ["defaults.on_fail", "'farewell'"]),
    # ---- a prompt said only under a condition; an option also offered in other languages
    "unknown condition of a prompt": ("prompt: info.hours", "prompt: [{key: info.hours, when: is_raining}]",
                                      ["'hours'", "prompt 'info.hours': unknown condition 'is_raining'"]),
    "offers without a label": ('"0": {next: goodbye, label: menu.representative}',
                               '"0": {next: goodbye, offers: true, unlisted: true}',
                               ["'start'", "option '0'", "needs a label and a digit key"]),
    "offers not true or false": ("label: menu.representative}", "label: menu.representative, offers: yes-please}",
                                 ["'start'", "option '0'", "'offers' is true or false"]),
}


@pytest.mark.parametrize(("old", "new", "words"), BREAKAGES.values(), ids=BREAKAGES.keys())
def test_mistakes_are_caught_naming_file_node_and_key(tmp_path, old, new, words):
    message = broken(tmp_path, old, new)
    if not message.startswith("flows:"):  # flow-wide problems name the flows, not one file
        assert message.startswith("flows/bad.yaml: "), message
    for word in words:
        assert word in message, message


def test_no_start_node(tmp_path):
    with pytest.raises(FlowError, match="no node named 'start'"):
        load_and_validate(write_flows(tmp_path, GOOD.replace("  start:", "  begin:").replace("then: start",
                                                                                             "then: begin")))


def test_a_node_defined_twice_names_both_files(tmp_path):
    flows = write_flows(tmp_path, GOOD, name="a.yaml", b="nodes:\n  hours:\n    kind: hangup\n")
    with pytest.raises(FlowError, match=r"flows/b\.yaml: node 'hours' is also defined in flows/a\.yaml"):
        load_flow(flows)


def test_yaml_syntax_error_names_the_file(tmp_path):
    with pytest.raises(FlowError, match=r"^flows/bad\.yaml: "):
        load_flow(write_flows(tmp_path, "nodes:\n  start: [unclosed\n"))


def test_unknown_top_level_key(tmp_path):
    with pytest.raises(FlowError, match=r"flows/bad\.yaml: unknown top-level key 'node'"):
        load_flow(write_flows(tmp_path, "node:\n  start:\n    kind: hangup\n"))


def test_not_a_mapping(tmp_path):
    with pytest.raises(FlowError, match=r"flows/bad\.yaml: expected a mapping with 'nodes'"):
        load_flow(write_flows(tmp_path, "- start\n- goodbye\n"))


def test_no_flow_files(tmp_path):
    with pytest.raises(FlowError, match="no flow files"):
        load_flow(tmp_path)


def test_directory_menus_are_checked(tmp_path):
    menu = """
      dir:
        kind: menu
        prompt: [departments.intro, "@items"]
        directory: {directory}
        item_prompt: departments.item
        directory_next: goodbye
    """
    for directory, prompt_list, error in [
        ("libraries", '[departments.intro, "@items"]', "unknown directory 'libraries'"),
        ("departments", "[departments.intro]", "needs '@items'"),
    ]:
        text = GOOD + textwrap.indent(textwrap.dedent(menu).format(directory=directory), "  ")
        text = text.replace('[departments.intro, "@items"]', prompt_list)
        with pytest.raises(FlowError) as caught:
            load_and_validate(write_flows(tmp_path, text))
        assert "flows/bad.yaml: node 'dir'" in str(caught.value) and error in str(caught.value)


DIRECTORY_MENU = """
  dir:
    kind: menu
    prompt: [departments.intro, "@items", "@options"]
    directory: departments
    item_prompt: departments.item
    directory_next: goodbye
    options:
      "9": {next: dir, label: menu.repeat}
      "*": {next: start, label: menu.main}
"""


def directory_menu_error(tmp_path, **directories) -> str:
    """Load GOOD plus a departments menu against directories with the given keys; the FlowError message."""
    flow = load_flow(write_flows(tmp_path, GOOD + DIRECTORY_MENU))
    with pytest.raises(FlowError) as caught:
        validate(flow, CATALOG, actions=ACTIONS, conditions=CONDITIONS, directories=directories)
    return str(caught.value)


def test_a_directory_menu_with_keys_of_its_own_loads(tmp_path):
    flow = load_and_validate(write_flows(tmp_path, GOOD + DIRECTORY_MENU))
    assert [opt.digits for opt in flow.node("dir").options] == ["9", "*"]


def test_a_config_key_colliding_with_a_menu_option_is_refused(tmp_path):
    message = directory_menu_error(tmp_path, departments=("1", "2", "9"))
    assert message == "config: directory 'departments' key '9' collides with flows/bad.yaml: node 'dir' option '9'"


def test_a_config_key_given_to_two_entries_is_refused(tmp_path):
    message = directory_menu_error(tmp_path, departments=("1", "2", "", "", "2"))  # "": speech only, not a key
    assert message == "config: directory 'departments' key '2' is used twice"


def test_a_shipped_service_type_on_key_9_collides_with_the_report_menu():
    settings = load_settings(environ={})
    on_nine = dataclasses.replace(settings.service_types[0], key="9")
    broken = dataclasses.replace(settings, service_types=(on_nine, *settings.service_types[1:]))
    with pytest.raises(FlowError) as caught:
        load_line(broken, PROJECT_ROOT / "flows", PROJECT_ROOT / "prompts", Secrets.from_env({}))
    assert str(caught.value) == ("config: directory 'service_types' key '9' collides with flows/cases.yaml: "
                                 "node 'report_type' option '9'")


def with_prompt(en: str, es: str) -> Catalog:
    """The shipped prompts plus one called 'test.lead'."""
    texts = {"en": {**CATALOG.texts["en"], "test.lead": en}, "es": {**CATALOG.texts["es"], "test.lead": es}}
    return Catalog(texts=texts, voices=CATALOG.voices)


@pytest.mark.parametrize(("en", "es", "written"), [
    ("City information. For hours, press 5.", "Información de la ciudad.", "(en) says the key itself ('press 5')"),
    ("City information.", "Para el horario, oprima 5.", "(es) says the key itself ('oprima 5')"),
    ("City information.", "Para regresar, oprima asterisco.", "(es) says the key itself ('oprima asterisco')"),
])
def test_a_menu_prompt_that_writes_a_key_is_refused(tmp_path, en, es, written):
    flow = load_flow(write_flows(tmp_path, GOOD.replace("[[info.intro,", "[[test.lead,")))
    with pytest.raises(FlowError) as caught:
        validate(flow, with_prompt(en, es), actions=ACTIONS, conditions=CONDITIONS, directories=DIRECTORIES)
    assert str(caught.value).startswith(f"flows/bad.yaml: node 'start': prompt 'test.lead' {written}")


def test_the_911_advisory_is_not_a_menu_key(tmp_path):
    flow = load_flow(write_flows(tmp_path, GOOD.replace("[[info.intro,", "[[test.lead,")))
    catalog = with_prompt("If this is an emergency, hang up and dial 9-1-1.", "Si es una emergencia, marque 9-1-1.")
    validate(flow, catalog, actions=ACTIONS, conditions=CONDITIONS, directories=DIRECTORIES)


def test_only_menus_are_checked_for_written_keys(tmp_path):
    """Input prompts may name the keys their action reads ("then press pound")."""
    text = GOOD + ("  ask:\n    kind: input\n    prompt: test.lead\n    action: known_action\n"
                   "    results: {ok: goodbye}\n")
    flow = load_flow(write_flows(tmp_path, text))
    validate(flow, with_prompt("Enter it, then press pound.", "Márquelo y oprima numeral."), actions=ACTIONS,
             conditions=CONDITIONS, directories=DIRECTORIES)


def test_a_list_inside_the_prompt_list_is_said_as_one():
    flow = load_flow(PROJECT_ROOT / "flows")
    assert [(r.key, r.joined) for r in flow.node("report_done_sms").prompt] == [
        ("report.case_number", False), ("report.sla", False), ("@options", False), ("report.or_hang_up", True)]


def test_shipped_menus_read_every_option_by_its_label():
    """No shipped prompt writes a menu key: every menu reads its options' labels (the check above passes)."""
    flow = load_flow(PROJECT_ROOT / "flows")
    menus = [node for node in flow.nodes.values() if node.kind == "menu"]
    # A menu of a directory's entries alone (the offered languages after 3) reads its entries instead.
    assert menus and all(("@options" if node.options else "@items") in [ref.key for ref in node.prompt]
                         for node in menus)
    assert all(opt.label or opt.unlisted for node in menus for opt in node.options)


def test_kinds_table_requires_only_keys_it_allows():
    for kind, spec in KINDS.items():
        assert set(spec.required) <= spec.keys, kind


def test_transfer_targets_are_checked(tmp_path):
    text = GOOD + "  away:\n    kind: transfer\n    to: moon\n    on_no_answer: goodbye\n"
    with pytest.raises(FlowError, match=r"flows/bad\.yaml: node 'away': transfer 'to' must be one of"):
        load_and_validate(write_flows(tmp_path, text))


def test_retry_is_a_result_not_a_node(tmp_path):
    text = GOOD.replace("results: {ok: goodbye}", 'results: {ok: goodbye, bad: "@retry"}')
    assert load_and_validate(write_flows(tmp_path, text)).node("act").results["bad"] == "@retry"


# ---- the shipped flows ---------------------------------------------------------------------------

def test_shipped_flows_and_prompts_load():
    catalog, flow, engine, line = load_line(load_settings(environ={}), PROJECT_ROOT / "flows",
                                            PROJECT_ROOT / "prompts", Secrets.from_env({}))
    assert {"start", "main_menu", "after_hours_menu", "representative", "goodbye_closed"} <= set(flow.nodes)
    assert engine.flow is flow and line.departments


def test_shipped_call_flow_shape():
    """The call map of DESIGN §1: the greeting's 911 advisory comes first, in both languages."""
    flow = load_flow(PROJECT_ROOT / "flows")
    start = flow.node("start")
    assert [(r.key, r.lang) for r in start.spoken_refs()] == [
        ("greeting.welcome", "en"), ("greeting.english", "en"), ("greeting.spanish", "es"),
        ("greeting.other_languages", "en"), ("greeting.recorded", "en"), ("greeting.recorded", "es")]
    # The recording notice is said only while conversations are recorded (config/recording.toml).
    assert [r.when for r in start.prompt if r.key == "greeting.recorded"] == ["recording_enabled"] * 2
    assert [o.digits for o in start.options if o.offers] == ["3"]  # said again in each offered language
    assert [(o.digits, o.label.key) for o in start.options] == [
        ("1", "greeting.english"), ("2", "greeting.spanish"), ("3", "greeting.other_languages")]
    assert start.on_silence.node == "opening" and start.on_silence.set_lang == "en"
    assert flow.node("representative").when == "is_open"


# ---- create_app refuses a broken copy ------------------------------------------------------------

@pytest.fixture
def project_copy(tmp_path):
    """Copies of the shipped flows and prompts to break."""
    shutil.copytree(PROJECT_ROOT / "flows", tmp_path / "flows")
    shutil.copytree(PROJECT_ROOT / "prompts", tmp_path / "prompts")
    return tmp_path


def break_file(path, old: str, new: str) -> None:
    """Replace text in a file, insisting it was there."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def app_config(tmp_path, **extra):
    """create_app settings that touch nothing outside tmp_path."""
    return {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "TWILIO_AUTH_TOKEN": "t", **extra}


def test_create_app_with_a_broken_flow_copy_fails(project_copy):
    break_file(project_copy / "flows" / "call.yaml", "then: main_menu\n    else: closed_greeting",
               "then: main_manu\n    else: closed_greeting")
    with pytest.raises(FlowError) as caught:
        create_app(app_config(project_copy, FLOWS_DIR=project_copy / "flows"))
    assert str(caught.value) == "flows/call.yaml: node 'opening': then: unknown node 'main_manu'"


def test_create_app_with_a_broken_prompt_copy_fails(project_copy):
    break_file(project_copy / "prompts" / "es.yaml", "  common.goodbye:", "  common.adios:")
    with pytest.raises(PromptError) as caught:
        create_app(app_config(project_copy, PROMPTS_DIR=project_copy / "prompts"))
    assert "es.yaml" in str(caught.value) and "'common.goodbye'" in str(caught.value)


def test_create_app_with_the_copies_unbroken_works(project_copy):
    app = create_app(app_config(project_copy, FLOWS_DIR=project_copy / "flows",
                                PROMPTS_DIR=project_copy / "prompts"))
    assert "main_menu" in app.extensions["ivr"].flow.nodes


def test_actions_registry_names():
    """Flows may name registered actions; conditions and directories are registered with a prefix."""
    assert all(":" not in name for name in actions.names())
    assert "on_call_end" not in actions.names()


# ---- `ivr check` ---------------------------------------------------------------------------------

def run_check(tmp_path, **env):
    """Run `ivr check` with a throw-away database URL."""
    return CliRunner().invoke(main, ["check"], env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env})


def test_ivr_check_ok(tmp_path):
    result = run_check(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")
    assert "flow nodes" in result.output and "prompts in en, es" in result.output


def test_ivr_check_names_a_broken_config_file(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "hours.toml").write_text("timezone = 'America/New_York'\n[weekly\nmon = ['08:00', '17:00']\n")
    result = run_check(tmp_path, IVR_CONFIG_DIR=str(config))
    assert result.exit_code != 0
    assert "hours.toml" in result.output and "Traceback" not in result.output


def test_ivr_check_names_a_broken_flow_file(project_copy, monkeypatch):
    # `ivr check` reads the project's flows and prompts: point the project root at a broken copy.
    shutil.copytree(PROJECT_ROOT / "config", project_copy / "config")
    break_file(project_copy / "flows" / "call.yaml", "prompt: closed.intro", "prompt: closed.intra")
    monkeypatch.setattr(ivr.app, "PROJECT_ROOT", project_copy)
    result = run_check(project_copy)
    assert result.exit_code != 0
    assert "flows/call.yaml: node 'closed_regular': unknown prompt 'closed.intra'" in result.output


def test_ivr_check_names_a_broken_prompt_file(project_copy, monkeypatch):
    break_file(project_copy / "prompts" / "es.yaml", "{hours}", "{horas}")
    monkeypatch.setattr(ivr.app, "PROJECT_ROOT", project_copy)
    result = run_check(project_copy)
    assert result.exit_code != 0
    assert "es.yaml" in result.output and "placeholders" in result.output


def test_an_option_may_also_mean_a_known_directory(tmp_path):
    text = GOOD.replace('"1": {next: hours, label: info.menu.hours,', '"1": {next: hours, also_means: departments, '
                        'label: info.menu.hours,')
    assert load_and_validate(write_flows(tmp_path, text)).node("start").options[0].also_means == "departments"


def test_also_means_an_unknown_directory_is_refused(tmp_path):
    message = broken(tmp_path, '"1": {next: hours, label: info.menu.hours,',
                     '"1": {next: hours, also_means: parking, label: info.menu.hours,')
    assert "option '1': also_means: unknown directory 'parking'" in message
