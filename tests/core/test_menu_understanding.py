"""Menus judge speech with the scorer (ivr/core/understanding.py): only a clear choice is taken, speech-only
directory entries are told apart, and a menu's action judges words that name none of its options clearly."""

from __future__ import annotations

import textwrap

import pytest

from ivr.core.engine import ActionResult, DirectoryEntry, Engine, Listen, Speak, Turn
from ivr.core.flows import FlowError, load_flow, validate
from ivr.core.prompts import load_catalog
from ivr.settings import SpeechSettings

EN = """
voice: en-voice
language: en-US
prompts:
  ask: What is it?
  item: For {name}, press {digit}.
  for_list: For the list, press {key}.
  for_hours: For hours, press {key}.
  for_person: For a person, press {key}.
  chosen: You chose {kinds}.
  guessed: Did you mean {kind}?
  missed: I missed that.
  common.retry: Sorry.
  common.emergency: Call 9-1-1.
  common.emergency_menu: Call 9-1-1, or choose.
  keys.star: star
  keys.pound: pound
"""
ES = EN.replace("en-voice", "es-voice").replace("en-US", "es-US")
FLOW = """
nodes:
  start:
    kind: menu
    prompt: [[ask, "@options"]]
    options:
      "1": {next: hours, label: for_hours, say: {en: [hours, open]}}
      "0": {next: person, label: for_person, say: {en: [person, operator]}}
      "9": {next: things, label: for_list, say: {en: [list]}}
  hours:
    kind: hangup
    prompt: [ask]
  person:
    kind: hangup
    prompt: [ask]
  # Keys of the directory work here unread; unclear words go to the action.
  ask_thing:
    kind: menu
    prompt: [[ask, "@options"]]
    directory: kinds
    directory_next: chosen
    options:
      "9": {next: things, label: for_list, say: {en: [list]}}
    action: judge
    results: {close: guessed, none: missed}
  things:
    kind: menu
    prompt: [ask, "@items"]
    directory: kinds
    item_prompt: item
    directory_next: chosen
  chosen:
    kind: hangup
    prompt: chosen
  guessed:
    kind: hangup
    prompt: guessed
  missed:
    kind: hangup
    prompt: missed
"""
SETTINGS = SpeechSettings(max_attempts=3, max_failures_per_call=2, timeout=8, speech_timeout="auto")
# Two entries without a key: before the scorer, both shared the key "" and the last one won.
KINDS = [DirectoryEntry("1", "pothole", {"en": "a pothole"}, {"en": ("pothole", "hole in the road")}),
         DirectoryEntry("", "graffiti", {"en": "graffiti"}, {"en": ("graffiti", "spray paint")}),
         DirectoryEntry("", "rodents", {"en": "rats"}, {"en": ("rats", "mice")})]


class World:
    """Just enough services: the kinds directory and a judging action that says what it was given."""

    def __init__(self, verdict: str = "close"):
        self.verdict = verdict
        self.judged: list[str] = []

    def condition(self, name, ctx):
        return True

    def directory(self, name):
        assert name == "kinds"
        return KINDS

    def prompt_values(self, ctx, lang):
        return {}

    def run_action(self, name, ctx):
        self.judged.append(ctx.speech)
        return ActionResult(self.verdict, values={"kind": ctx.speech})


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("menus")
    for folder, name, text in (("prompts", "en.yaml", EN), ("prompts", "es.yaml", ES), ("flows", "t.yaml", FLOW)):
        (root / folder).mkdir(exist_ok=True)
        (root / folder / name).write_text(textwrap.dedent(text))
    catalog = load_catalog(root / "prompts")
    flow = load_flow(root / "flows")
    validate(flow, catalog, actions={"judge"}, conditions=set(), directories={"kinds": ("1", "", "")})
    return Engine(flow, catalog, SETTINGS)


def said(outcome) -> list[str]:
    """Everything the caller hears."""
    texts = [step.text for step in outcome.steps if isinstance(step, Speak)]
    return texts + [p.text for step in outcome.steps if isinstance(step, Listen) for p in step.prompts]


def at(node: str, **fields) -> Turn:
    return Turn(node=node, event="gather", **fields)


@pytest.mark.parametrize(("speech", "node"), [("what hours are you open", "hours"),
                                              ("can I talk to a person", "person"), ("press nine", "things")])
def test_a_clear_choice_is_taken(engine, speech, node):
    assert engine.advance(at("start", speech=speech), World()).trail[0] == node


@pytest.mark.parametrize("speech", ["a person told me your hours", "open the list"])
def test_words_naming_two_choices_are_asked_again(engine, speech):
    """A confidently wrong choice is worse than asking again."""
    outcome = engine.advance(at("start", speech=speech), World())
    assert said(outcome)[0] == "Sorry." and outcome.steps[-1].node == "start"


@pytest.mark.parametrize(("speech", "code"), [("spray paint on my fence", "graffiti"), ("rats", "rodents"),
                                              ("a hole in the road", "pothole")])
def test_entries_without_a_key_are_each_chosen_by_their_own_words(engine, speech, code):
    outcome = engine.advance(at("things", speech=speech), World())
    assert outcome.answers["kinds"] == code
    assert outcome.trail == ["chosen"]


def test_unclear_words_go_to_the_menus_action_and_its_results(engine):
    world = World("close")
    outcome = engine.advance(at("ask_thing", speech="grafitti on the wall"), world)
    assert world.judged == ["grafitti on the wall"] and said(outcome) == ["Did you mean grafitti on the wall?"]
    world = World("none")
    assert said(engine.advance(at("ask_thing", speech="hello?"), world)) == ["I missed that."]


def test_the_action_judges_the_directorys_words_but_never_keys_or_options(engine):
    world = World("close")
    # Even clear words for an entry go to the action: it judges them by rules of its own (a question, say).
    engine.advance(at("ask_thing", speech="there are rats in the yard"), world)
    assert world.judged == ["there are rats in the yard"]
    world = World()
    assert engine.advance(at("ask_thing", speech="read me the list"), world).trail[0] == "things"
    # The directory's keys work here without being read out.
    outcome = engine.advance(at("ask_thing", digits="1"), world)
    assert outcome.answers["kinds"] == "pothole" and world.judged == []
    # A wrong key is a wrong key: asked again, not judged.
    assert said(engine.advance(at("ask_thing", digits="7"), world))[0] == "Sorry." and world.judged == []


def test_a_directory_listened_for_is_not_read_but_hinted(engine):
    listen = engine.advance(at("start", digits="9"), World()).steps[-1]
    assert [p.text for p in listen.prompts] == ["What is it?", "For a pothole, press 1."]
    quiet = engine.advance(Turn(node="ask_thing", event="silence"), World()).steps[-1]
    assert [p.text for p in quiet.prompts] == ["What is it? For the list, press 9."]
    assert quiet.hints == ("list", "pothole", "hole in the road", "graffiti", "spray paint", "rats", "mice")


# (what to take out of FLOW, the error it must cause)
TOGETHER = "action and its results come together"
BROKEN = {
    "an action without results": ("    results: {close: guessed, none: missed}\n", TOGETHER),
    "results without an action": ("    action: judge\n", TOGETHER),
    "a directory leading nowhere": ("    directory_next: chosen\n    options:\n", "needs 'directory_next'"),
}


@pytest.mark.parametrize(("cut", "error"), BROKEN.values(), ids=BROKEN.keys())
def test_menu_actions_and_directories_are_checked(tmp_path, cut, error):
    assert cut in FLOW
    for folder, name, text in (("prompts", "en.yaml", EN), ("prompts", "es.yaml", ES),
                               ("flows", "t.yaml", FLOW.replace(cut, "    options:\n" if "options" in cut else ""))):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(textwrap.dedent(text))
    with pytest.raises(FlowError, match=error):
        validate(load_flow(tmp_path / "flows"), load_catalog(tmp_path / "prompts"), actions={"judge"},
                 conditions=set(), directories={"kinds": ("1", "", "")})
