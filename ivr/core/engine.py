"""The call engine: given where a call is and what the caller did, decide what they hear next.

Pure: no Flask, Twilio or SQLAlchemy. Side effects and facts about the world (is 311 open, where does
a department transfer go, what does an action do) come in through a `Services` object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .emergency import is_emergency
from .flows import (
    DIRECTORY_ITEMS,
    ENTRY_NODE,
    KEY_FIELD,
    KEY_PROMPTS,
    KINDS,
    OPTIONS,
    RETRY,
    Flow,
    Node,
    Option,
    PromptRef,
    Target,
)
from .prompts import LANGUAGES, OFFER_PROMPT, Catalog
from .understanding import CLEAR, hints, understand
from .words import normalise, spoken_key, spoken_menu_key

if TYPE_CHECKING:
    from ..settings import SpeechSettings

MAX_NODES_PER_TURN = 40  # a flow that chains more nodes than this without listening is a loop
FAILURES_KEY = "failed_prompts"  # call-wide count of prompts the caller ran out of attempts at
# The 911 advisory given at a node: {"node": name, "awaiting": bool}. Kept in the answers (stored per call)
# because the next turn may reach another worker; forgotten once the caller answers at another node.
ADVISED_KEY = "emergency_advised"
GO_ON_KEY = "1"  # after the advisory at an input, this key (or silence) asks the node's question again


class FlowRuntimeError(RuntimeError):
    """The flow led somewhere it cannot go at run time (a loop, an unmapped action result)."""


# ---- what comes in -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Turn:
    """One webhook's worth of caller input at a position in the flow."""

    node: str | None = None  # None: the call has just arrived
    lang: str = "en"
    attempt: int = 1
    event: str = "start"  # start | gather | silence | dial | queue | record | conference
    digits: str | None = None
    speech: str | None = None
    dial_status: str | None = None
    queue_result: str | None = None
    recording_url: str | None = None
    recording_seconds: int | None = None
    caller: str | None = None
    call_sid: str | None = None
    answers: dict = field(default_factory=dict)


@dataclass
class Context:
    """What an action or condition may read and change during one turn."""

    lang: str
    answers: dict
    caller: str | None
    call_sid: str | None
    digits: str | None = None
    speech: str | None = None
    recording_url: str | None = None
    recording_seconds: int | None = None
    value_cache: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ActionResult:
    """An action's verdict: which result branch to take, what to say first, values for prompts."""

    outcome: str
    say: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)
    call_outcome: str | None = None  # what the call achieved, for the call record (e.g. "case_created")


@dataclass(frozen=True)
class DirectoryEntry:
    """One choice of a menu built from config (departments, service types)."""

    digits: str
    code: str
    names: dict[str, str]
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # An offered language (the menu after 3): the entry is said in that language's own words and voice, its
    # item prompt (greeting.offer) given the entry's key, whatever language the call is in.
    lang: str | None = None


class MenuChoice(NamedTuple):
    """One thing a menu accepts: keys, where it leads, its words, and the directory entry's code if it is one."""

    digits: str
    target: Target
    words: dict
    code: str | None = None


@dataclass(frozen=True)
class Destination:
    """A phone number to dial, with DTMF to send once it answers."""

    number: str
    send_digits: str | None = None
    label: str = ""
    timeout: int = 25


@dataclass(frozen=True)
class QueueTarget:
    """Where representatives are reached: a queue name (Enqueue) or a number (Dial)."""

    mode: str  # enqueue | dial
    name: str = ""
    number: str = ""
    attributes: dict = field(default_factory=dict)
    workflow_sid: str = ""
    timeout: int | None = None  # seconds a dialled call centre rings


@dataclass(frozen=True)
class ConferenceRoom:
    """A conference the caller joins and others are dialled into; its name is the call's, not the caller's."""

    name: str


class Services(Protocol):
    """Everything the engine asks of the world."""

    def condition(self, name: str, ctx: Context) -> bool: ...
    def run_action(self, name: str, ctx: Context) -> ActionResult: ...
    def directory(self, name: str) -> list[DirectoryEntry]: ...
    def prompt_values(self, ctx: Context, lang: str) -> dict: ...
    def transfer_destination(self, to: str, ctx: Context) -> Destination | None: ...
    def representative(self, ctx: Context) -> QueueTarget: ...
    def conference_room(self, to: str, ctx: Context) -> ConferenceRoom | None: ...


# ---- what goes out -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Speak:
    """Words to say in one language."""

    text: str
    lang: str


@dataclass(frozen=True)
class Listen:
    """Say the prompts while listening for keys or speech, then come back to `node`."""

    node: str
    lang: str
    attempt: int
    prompts: tuple[Speak, ...]
    input: tuple[str, ...]
    timeout: int
    num_digits: int | None = None
    finish_on_key: str | None = None
    speech_timeout: str = "auto"  # seconds of quiet that end speech, or "auto"
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordMessage:
    """Say the prompts, then record the caller, then come back to `node`."""

    node: str
    lang: str
    attempt: int
    prompts: tuple[Speak, ...]
    max_length: int
    transcribe: bool = False  # a transcript is wanted, where the language allows


@dataclass(frozen=True)
class Transfer:
    """Dial a number; come back to `node` with the result."""

    node: str
    lang: str
    destination: Destination


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in line for a representative; come back to `node` if they leave the line."""

    node: str
    lang: str
    target: QueueTarget


@dataclass(frozen=True)
class JoinConference:
    """Put the caller in a conference room; come back to `node` when they leave it."""

    node: str
    lang: str
    room: ConferenceRoom


@dataclass(frozen=True)
class Hangup:
    """End the call."""


Step = Speak | Listen | RecordMessage | Transfer | Enqueue | JoinConference | Hangup


@dataclass
class Outcome:
    """What one turn produced: the steps to play, the call's language and answers, and a trail."""

    lang: str
    answers: dict
    steps: list = field(default_factory=list)
    trail: list[str] = field(default_factory=list)
    end_reason: str | None = None
    emergency: bool = False


# ---- the engine ----------------------------------------------------------------------------------

class Engine:
    """Advances calls through a validated flow."""

    def __init__(self, flow: Flow, catalog: Catalog, settings: SpeechSettings):
        self.flow = flow
        self.catalog = catalog
        self.settings = settings

    # -- entry point --
    def advance(self, turn: Turn, services: Services) -> Outcome:
        """Apply the caller's input at `turn.node` and run the flow until it must listen or end."""
        outcome = Outcome(lang=turn.lang if turn.lang in LANGUAGES else LANGUAGES[0],
                          answers=dict(turn.answers))
        ctx = Context(lang=outcome.lang, answers=outcome.answers, caller=turn.caller,
                      call_sid=turn.call_sid, digits=turn.digits, speech=turn.speech,
                      recording_url=turn.recording_url, recording_seconds=turn.recording_seconds)
        if turn.node is None:
            self._enter(self.flow.node(ENTRY_NODE), outcome, ctx, services)
            return outcome
        node = self.flow.node(turn.node)
        if self._emergency_turn(node, turn, outcome, ctx, services):
            return outcome
        handler = {
            "silence": self._on_silence, "gather": self._on_gather, "dial": self._on_dial,
            "queue": self._on_queue, "record": self._on_record, "conference": self._on_conference,
        }.get(turn.event)
        if handler is None:
            raise FlowRuntimeError(f"unknown event {turn.event!r}")
        handler(node, turn, outcome, ctx, services)
        return outcome

    # -- input handlers --
    def _on_gather(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> None:
        """Keys or speech arrived at a listening node."""
        if not KINDS[node.kind].listens:
            raise FlowRuntimeError(f"node {node.name!r} ({node.kind}) does not take input")
        if node.kind != "menu":
            self._run_node_action(node, turn.attempt, outcome, ctx, services)
            return
        target = self._match_menu(node, turn, ctx, services)
        if target is not None:
            self._go(target, outcome, ctx, services)
        elif node.action and turn.speech and not turn.digits:
            # Words the menu's own choices do not clearly name: the node's action judges them.
            self._run_node_action(node, turn.attempt, outcome, ctx, services)
        else:
            self._retry(node, turn.attempt, outcome, ctx, services)

    def _on_silence(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> None:
        """The caller said and pressed nothing before the timeout."""
        if node.on_silence is not None:
            self._go(node.on_silence, outcome, ctx, services)
        else:
            self._retry(node, turn.attempt, outcome, ctx, services)

    def _on_dial(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> None:
        """A transfer ended: after a conversation the call is done; otherwise take the fallback."""
        if node.kind == "queue":
            # Representatives reached by <Dial> instead of <Enqueue> report back the same way.
            status = "bridged" if turn.dial_status == "completed" else turn.dial_status
            self._on_queue(node, replace(turn, queue_result=status), outcome, ctx, services)
            return
        if turn.dial_status == "completed":
            outcome.end_reason = f"transfer_completed:{node.to}"
            if node.on_answer:
                self._enter(self.flow.node(node.on_answer), outcome, ctx, services)
            else:
                outcome.steps.append(Hangup())
        else:
            outcome.end_reason = f"transfer_{turn.dial_status or 'failed'}:{node.to}"
            self._enter(self.flow.node(node.on_no_answer), outcome, ctx, services)

    def _on_queue(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> None:
        """The caller left the representatives' line: spoken to, hung up, chose to leave, or the line failed."""
        if turn.queue_result == "leave" and node.on_leave:
            outcome.end_reason = "left_queue"
            self._enter(self.flow.node(node.on_leave), outcome, ctx, services)
            return
        if turn.queue_result in ("bridged", "hangup", "bridging-in-progress"):
            outcome.end_reason = "representative_answered" if turn.queue_result != "hangup" else "hung_up_in_queue"
            outcome.steps.append(Hangup())
            return
        outcome.end_reason = f"queue_{turn.queue_result or 'error'}"
        self._enter(self.flow.node(node.on_fail or self._fail_node), outcome, ctx, services)

    def _on_conference(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> None:
        """The caller left the conference: after the conversation the call is done; brought out of it, on_fail."""
        if node.kind != "conference":
            raise FlowRuntimeError(f"node {node.name!r} ({node.kind}) holds no conference")
        # Twilio ends the <Dial> with "answered" (or "completed") once the conference has ended around the caller;
        # a caller redirected out of it (someone was not reached) arrives with no dial status at all.
        if turn.dial_status in ("answered", "completed"):
            outcome.end_reason = f"conference_completed:{node.to}"
            outcome.steps.append(Hangup())
            return
        outcome.end_reason = f"conference_{turn.dial_status or 'unreachable'}:{node.to}"
        self._enter(self.flow.node(node.on_fail), outcome, ctx, services)

    def _on_record(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> None:
        """A recording finished (or the caller said nothing)."""
        if not turn.recording_url and node.on_silence is not None:
            self._go(node.on_silence, outcome, ctx, services)
            return
        self._run_node_action(node, turn.attempt, outcome, ctx, services)

    # -- matching --
    def _menu_choices(self, node: Node, services: Services) -> list[MenuChoice]:
        """Everything a menu accepts: its options, then its directory's entries (each known by its code)."""
        choices = [MenuChoice(opt.digits, opt.target, self._option_words(opt, services)) for opt in node.options]
        if node.directory:
            choices += [MenuChoice(entry.digits, Target(node.directory_next), entry.words, entry.code)
                        for entry in services.directory(node.directory)]
        return choices

    @staticmethod
    def _option_words(option: Option, services: Services) -> dict:
        """An option's own words, plus every entry's words of the directory it also means."""
        if option.also_means is None:
            return option.words
        words = {lang: list(said) for lang, said in option.words.items()}
        for entry in services.directory(option.also_means):
            for lang, said in entry.words.items():
                words.setdefault(lang, []).extend(said)
        return {lang: tuple(dict.fromkeys(said)) for lang, said in words.items()}

    def _match_menu(self, node: Node, turn: Turn, ctx: Context, services: Services) -> Target | None:
        """The choice the caller made by key or spoken key, or named clearly in words; None to ask again."""
        choices = self._menu_choices(node, services)
        speech = normalise(turn.speech or "")
        pressed = (turn.digits or "").rstrip("#") or spoken_menu_key(speech)
        for choice in choices:
            if pressed and pressed == choice.digits:
                return self._remember_choice(node, choice, ctx)
        if not speech:
            return None
        # Every choice is scored against the whole utterance (entries without a key included, each by its own
        # code), and only a clear winner is taken: a confidently wrong choice is worse than asking again.
        verdict = understand(speech, [(index, choice.words) for index, choice in enumerate(choices)])
        if verdict.kind != CLEAR:
            return None
        chosen = choices[verdict.choice]
        if chosen.code and node.action:
            return None  # a menu with an action leaves its directory's words to the action to judge
        return self._remember_choice(node, chosen, ctx)

    @staticmethod
    def _remember_choice(node: Node, choice: MenuChoice, ctx: Context) -> Target:
        """Store a directory pick in the answers so later nodes know which entry it was."""
        if node.directory and choice.code:
            ctx.answers[node.directory] = choice.code
        return choice.target

    # -- the 911 advisory --
    def _emergency_turn(self, node: Node, turn: Turn, outcome: Outcome, ctx: Context, services: Services) -> bool:
        """Give the advisory once per stay at a node, and let the caller go on after it; True if the turn is done."""
        advised = self._advised_here(node, ctx)
        if advised is None:
            if turn.event != "gather" or node.kind not in ("menu", "input") or not is_emergency(turn.speech):
                return False
            self._advise(node, turn.attempt, outcome, ctx, services)
            return True
        if not advised.get("awaiting"):
            return False  # said again, or anything else: an ordinary answer, never a second advisory
        ctx.answers[ADVISED_KEY] = {"node": node.name, "awaiting": False}
        if turn.event == "silence" or self._key_pressed(turn) == GO_ON_KEY:
            self._listen(node, turn.attempt, outcome, ctx, services)  # go on: the node's own question again
            return True
        return False

    @staticmethod
    def _advised_here(node: Node, ctx: Context) -> dict | None:
        """The advisory given at this node; one given at a node the caller has since left is forgotten."""
        advised = ctx.answers.get(ADVISED_KEY)
        if isinstance(advised, dict) and advised.get("node") == node.name:
            return advised
        ctx.answers.pop(ADVISED_KEY, None)
        return None

    @staticmethod
    def _key_pressed(turn: Turn) -> str | None:
        """The key pressed, or said aloud ('one', 'uno')."""
        return (turn.digits or "").rstrip("#") or spoken_menu_key(normalise(turn.speech or ""))

    def _advise(self, node: Node, attempt: int, outcome: Outcome, ctx: Context, services: Services) -> None:
        """The 911 advisory, then listen again at the node, keeping the attempt."""
        outcome.emergency = True
        # Before the caller has chosen a language, warn in every language the prompt speaks.
        langs = self._spoken_langs(node, ctx)
        self._listen(node, attempt, outcome, ctx, services)
        listen = outcome.steps.pop()
        if node.kind == "menu":
            # The menu's choices follow at once: its keys keep their meaning, so the advisory says "choose".
            advisory = tuple(self._speak("common.emergency_menu", ctx, services, lang) for lang in langs)
            outcome.steps.append(replace(listen, prompts=advisory + listen.prompts))
            ctx.answers[ADVISED_KEY] = {"node": node.name, "awaiting": False}
            return
        # An input's keys are its answer (a case number, 1 for a recording), so the advisory is said alone and
        # offers its own key: one key or silence asks the question again, words are the answer.
        advisory = tuple(Speak(self.catalog.text(lang, "common.emergency", **{
            **self._values(ctx, services, lang), KEY_FIELD: GO_ON_KEY}), lang) for lang in langs)
        outcome.steps.append(replace(listen, prompts=advisory, num_digits=1, finish_on_key=None, hints=()))
        ctx.answers[ADVISED_KEY] = {"node": node.name, "awaiting": True}

    # -- moving through the flow --
    def _go(self, target: Target, outcome: Outcome, ctx: Context, services: Services) -> None:
        """Follow a target, switching language first if it says so."""
        if target.set_lang:
            outcome.lang = ctx.lang = target.set_lang
        self._enter(self.flow.node(target.node), outcome, ctx, services)

    @property
    def _fail_node(self) -> str:
        """Where a caller goes after too many tries (flow default)."""
        return self.flow.defaults.get("on_fail", ENTRY_NODE)

    def _give_up_target(self, node: Node, ctx: Context, services: Services) -> str:
        """After too many tries: the node's fallback, or the flow's goodbye once a call has failed too often."""
        failures = int(ctx.answers.get(FAILURES_KEY, 0)) + 1
        ctx.answers[FAILURES_KEY] = failures
        # A caller who cannot be helped (silent line, no representative free) must not cycle for ever.
        if failures > self.settings.max_failures_per_call and self.flow.defaults.get("on_give_up"):
            return self.flow.defaults["on_give_up"]
        return node.on_fail or self._fail_node

    def _retry(self, node: Node, attempt: int, outcome: Outcome, ctx: Context, services: Services,
               say: Iterable[str] = ("common.retry",)) -> None:
        """Apologise and ask again, or give up after the last attempt."""
        limit = node.max_attempts or self.settings.max_attempts
        for key in say:
            outcome.steps.extend(self._speak(key, ctx, services, lang) for lang in self._spoken_langs(node, ctx))
        if attempt >= limit:
            outcome.end_reason = "too_many_tries"
            self._enter(self.flow.node(self._give_up_target(node, ctx, services)), outcome, ctx, services)
        else:
            self._listen(node, attempt + 1, outcome, ctx, services)

    @staticmethod
    def _spoken_langs(node: Node, ctx: Context) -> list[str]:
        """The languages a node's prompt is said in: an apology must reach a caller who has not chosen yet."""
        return list(dict.fromkeys(ref.lang or ctx.lang for ref in node.spoken_refs())) or [ctx.lang]

    def _run_node_action(self, node: Node, attempt: int, outcome: Outcome, ctx: Context,
                         services: Services) -> None:
        """Run an input/record/action node's action and follow the branch for its result."""
        result = services.run_action(node.action, ctx)
        outcome.end_reason = result.call_outcome or outcome.end_reason
        target = node.results.get(result.outcome, node.results.get("default"))
        if target is None:
            raise FlowRuntimeError(f"node {node.name!r}: action {node.action!r} gave unmapped {result.outcome!r}")
        ctx.answers.update(result.values)
        if target == RETRY:
            self._retry(node, attempt, outcome, ctx, services, say=result.say or ("common.retry",))
            return
        for key in result.say:
            outcome.steps.append(self._speak(key, ctx, services))
        self._enter(self.flow.node(target), outcome, ctx, services)

    def _enter(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> None:
        """Run nodes that need no input until one listens or the call ends."""
        for _ in range(MAX_NODES_PER_TURN):
            outcome.trail.append(node.name)
            following = self.ENTER[node.kind](self, node, outcome, ctx, services)
            if following is None:
                return
            node = following
        raise FlowRuntimeError(f"more than {MAX_NODES_PER_TURN} nodes without listening: a loop near {node.name!r}")

    # -- entering each kind of node: the node to go on to, or None once the turn is over --
    def _enter_say(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Speak, then go on."""
        outcome.steps.extend(self._prompts(node, ctx, services))
        return self.flow.node(node.next)

    def _enter_branch(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Go on by the condition."""
        return self.flow.node(node.then if services.condition(node.when, ctx) else node.otherwise)

    def _enter_action(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Do something, then go on by its result."""
        result = services.run_action(node.action, ctx)
        outcome.end_reason = result.call_outcome or outcome.end_reason
        target = node.results.get(result.outcome, node.results.get("default"))
        if target is None or target == RETRY:
            raise FlowRuntimeError(f"node {node.name!r}: unmapped action result {result.outcome!r}")
        ctx.answers.update(result.values)
        outcome.steps.extend(self._speak(key, ctx, services) for key in result.say)
        return self.flow.node(target)

    def _enter_listening(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Ask, and end the turn listening (menus, inputs, recordings)."""
        self._listen(node, 1, outcome, ctx, services)
        return None

    def _enter_transfer(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Dial a department, or take the fallback at once if there is nowhere to dial."""
        destination = services.transfer_destination(node.to, ctx)
        if destination is None:
            return self.flow.node(node.on_no_answer)
        outcome.steps.extend(self._prompts(node, ctx, services))
        outcome.steps.append(Transfer(node.name, ctx.lang, destination))
        outcome.end_reason = f"transfer:{node.to}:{destination.label}"
        return None

    def _enter_queue(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Put the caller in line for a representative."""
        outcome.steps.extend(self._prompts(node, ctx, services))
        outcome.steps.append(Enqueue(node.name, ctx.lang, services.representative(ctx)))
        outcome.end_reason = f"representative:{ctx.lang}"
        return None

    def _enter_conference(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Put the caller in the conference room, or take on_fail at once when there is none to join."""
        room = services.conference_room(node.to, ctx)
        if room is None:
            return self.flow.node(node.on_fail)
        outcome.steps.extend(self._prompts(node, ctx, services))
        outcome.steps.append(JoinConference(node.name, ctx.lang, room))
        outcome.end_reason = f"conference:{node.to}"
        return None

    def _enter_hangup(self, node: Node, outcome: Outcome, ctx: Context, services: Services) -> Node | None:
        """Say goodbye and end the call."""
        outcome.steps.extend(self._prompts(node, ctx, services))
        outcome.steps.append(Hangup())
        outcome.end_reason = outcome.end_reason or f"goodbye:{node.name}"
        return None

    # One handler per kind of flows.KINDS (a test keeps the two tables in step).
    ENTER = {
        "say": _enter_say, "branch": _enter_branch, "action": _enter_action, "menu": _enter_listening,
        "input": _enter_listening, "record": _enter_listening, "transfer": _enter_transfer,
        "queue": _enter_queue, "conference": _enter_conference, "hangup": _enter_hangup,
    }

    def _listen(self, node: Node, attempt: int, outcome: Outcome, ctx: Context, services: Services) -> None:
        """Emit the listening step for an input node."""
        if not outcome.trail or outcome.trail[-1] != node.name:
            outcome.trail.append(node.name)
        prompts = self._prompts(node, ctx, services)
        if node.kind == "record":
            outcome.steps.append(RecordMessage(node.name, ctx.lang, attempt, tuple(prompts),
                                               node.max_length, node.transcribe))
            return
        choices = self._menu_choices(node, services) if node.kind == "menu" else []
        # The recogniser is told the words the scorer listens for, from the same vocabulary.
        heard_for = hints([(index, choice.words) for index, choice in enumerate(choices)], ctx.lang)
        # A menu answers as soon as a whole choice is pressed, not after the timeout runs out.
        num_digits = node.num_digits or max((len(choice.digits) for choice in choices if choice.digits), default=None)
        outcome.steps.append(Listen(
            node=node.name, lang=ctx.lang, attempt=attempt, prompts=tuple(prompts), input=node.input,
            timeout=node.timeout or self.settings.timeout, num_digits=num_digits,
            finish_on_key=node.finish_on_key, speech_timeout=node.speech_timeout or self.settings.speech_timeout,
            hints=heard_for,
        ))

    def _directory_items(self, node: Node, ctx: Context, services: Services) -> list[Speak]:
        """'For Public Works, press 1.' for each directory entry."""
        items = []
        for entry in services.directory(node.directory):
            if not entry.digits:  # reachable by speech only
                continue
            if entry.lang is not None:
                items.append(Speak(self.catalog.text(entry.lang, node.item_prompt, **{KEY_FIELD: entry.digits}),
                                   entry.lang))
                continue
            values = {**self._values(ctx, services, ctx.lang), "digit": entry.digits,
                      "name": entry.names.get(ctx.lang, entry.code)}
            items.append(Speak(self.catalog.text(ctx.lang, node.item_prompt, **values), ctx.lang))
        return items

    # -- prompts --
    def _values(self, ctx: Context, services: Services, lang: str) -> dict:
        """Values prompts may use: the world's (hours, numbers) and the call's answers."""
        if lang not in ctx.value_cache:
            ctx.value_cache[lang] = services.prompt_values(ctx, lang)
        return {**ctx.value_cache[lang], **ctx.answers}

    def _speak(self, key: str, ctx: Context, services: Services, lang: str | None = None) -> Speak:
        """Render one prompt."""
        lang = lang or ctx.lang
        return Speak(self.catalog.text(lang, key, **self._values(ctx, services, lang)), lang)

    def _prompts(self, node: Node, ctx: Context, services: Services) -> list[Speak]:
        """Render a node's prompt list: fixed languages honoured, markers expanded, joined entries said as one."""
        said: list[Speak] = []
        for ref in node.prompt:
            for index, speak in enumerate(self._expand(ref, node, ctx, services)):
                # Labels run on as one sentence; a directory's entries are each their own.
                joined = ref.joined if index == 0 else ref.key == OPTIONS
                if joined and said and said[-1].lang == speak.lang:
                    said[-1] = Speak(f"{said[-1].text} {speak.text}", speak.lang)
                else:
                    said.append(speak)
        return said

    def _expand(self, ref: PromptRef, node: Node, ctx: Context, services: Services) -> list[Speak]:
        """One prompt entry as spoken: a prompt, the directory's entries, or the options' labels."""
        if ref.when is not None and not services.condition(ref.when, ctx):
            return []
        if ref.key == DIRECTORY_ITEMS:
            return self._directory_items(node, ctx, services)
        if ref.key == OPTIONS:
            said = []
            for option in node.options:
                if not option.unlisted:
                    said.append(self._label(option, ctx, services))
                    said += self._offers(option) if option.offers else []
            return said
        return [self._speak(ref.key, ctx, services, ref.lang)]

    def _offers(self, option: Option) -> list[Speak]:
        """'For help in Portuguese, press 3.' in each offered language, in its own words."""
        return [Speak(self.catalog.text(lang, OFFER_PROMPT, **{KEY_FIELD: option.digits}), lang)
                for lang in self.catalog.offers]

    def _label(self, option: Option, ctx: Context, services: Services) -> Speak:
        """'To hear this again, press 9.': an option's label with its key said in the label's language."""
        lang = option.label.lang or ctx.lang
        names = {symbol: self.catalog.text(lang, key) for symbol, key in KEY_PROMPTS.items()}
        values = {**self._values(ctx, services, lang), KEY_FIELD: spoken_key(option.digits, names)}
        return Speak(self.catalog.text(lang, option.label.key, **values), lang)
