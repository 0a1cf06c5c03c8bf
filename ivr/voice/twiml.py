"""Turn engine outcomes into TwiML with twilio's VoiceResponse: the only TwiML builder."""

from __future__ import annotations

import json
from collections.abc import Callable

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ..core.engine import Enqueue, Hangup, JoinConference, Listen, Outcome, RecordMessage, Speak, Transfer
from ..core.prompts import Voice

# turn_url(node, lang, attempt, event) -> absolute or root-relative URL of the next webhook
TurnUrl = Callable[[str, str, int, str], str]
# conference_url(what, **query) -> root-relative URL of an interpretation-conference webhook ("dial", "wait"...)
ConferenceUrl = Callable[..., str]
# Conference events the line follows (Twilio's short names): who joined or left, and when the room ended.
CONFERENCE_EVENTS = "start end join leave"
TRANSCRIBED_LANGUAGES = ("en",)  # Twilio's <Record transcribe> understands English only


# Rendered turns kept per renderer. Most turns are a prompt said the same way to every caller (a menu, at an
# attempt, in a language); building and serialising the XML cost more than the rest of the rendering.
CACHED_RENDERINGS = 1024


class Renderer:
    """Builds VoiceResponse documents for outcomes, given voices and URLs."""

    def __init__(self, voices: dict[str, Voice], turn_url: TurnUrl, wait_url: Callable[[str], str],
                 conference_url: ConferenceUrl | None = None, transcription_url: str | None = None,
                 recording_url: str | None = None):
        self.voices = voices
        self.turn_url = turn_url
        self.wait_url = wait_url
        self.conference_url = conference_url
        self.transcription_url = transcription_url
        # Set when config/recording.toml records conversations: where Twilio reports each finished recording.
        self.recording_url = recording_url
        self._rendered: dict[tuple, str] = {}

    def render_xml(self, outcome: Outcome) -> str:
        """The whole response for one turn as TwiML text, from the cache when the same steps were rendered before.

        The steps are the whole input (the URLs depend only on their node, language and attempt), so equal steps
        give equal TwiML, whatever a caller-specific value in them; an unhashable step (a queue's attributes) is
        rendered every time.
        """
        key = tuple(outcome.steps)
        try:
            xml = self._rendered.get(key)
        except TypeError:
            return str(self.render(outcome))
        if xml is None:
            xml = str(self.render(outcome))
            if len(self._rendered) >= CACHED_RENDERINGS:
                self._rendered.clear()  # caller-specific texts (read-backs) must not grow it without bound
            self._rendered[key] = xml
        return xml

    def say(self, parent, speak: Speak) -> None:
        """Append a <Say> in the speaker's language and voice."""
        voice = self.voices[speak.lang]
        parent.say(speak.text, voice=voice.voice, language=voice.language)

    def render(self, outcome: Outcome) -> VoiceResponse:
        """The whole response for one turn."""
        response = VoiceResponse()
        for step in outcome.steps:
            if isinstance(step, Speak):
                self.say(response, step)
            elif isinstance(step, Listen):
                self._listen(response, step)
            elif isinstance(step, RecordMessage):
                self._record(response, step)
            elif isinstance(step, Transfer):
                self._transfer(response, step)
            elif isinstance(step, Enqueue):
                self._enqueue(response, step)
            elif isinstance(step, JoinConference):
                self._join_conference(response, step)
            elif isinstance(step, Hangup):
                response.hangup()
        return response

    def _listen(self, response: VoiceResponse, step: Listen) -> None:
        """<Gather> around the prompts, then a <Redirect> Twilio reaches only on silence."""
        voice = self.voices[step.lang]
        options = {
            "input": " ".join(step.input),
            "action": self.turn_url(step.node, step.lang, step.attempt, "gather"),
            "method": "POST",
            "timeout": step.timeout,
            "action_on_empty_result": False,
        }
        if "speech" in step.input:
            options.update(language=voice.language, speech_timeout=step.speech_timeout)
            if step.hints:
                options["hints"] = ", ".join(step.hints)
        if step.num_digits:
            options["num_digits"] = step.num_digits
        if step.finish_on_key is not None:
            options["finish_on_key"] = step.finish_on_key
        gather = response.gather(**options)
        for prompt in step.prompts:
            self.say(gather, prompt)
        response.redirect(self.turn_url(step.node, step.lang, step.attempt, "silence"), method="POST")

    def _record(self, response: VoiceResponse, step: RecordMessage) -> None:
        """Prompts, <Record>, and a <Redirect> for when Twilio hears nothing to record."""
        for prompt in step.prompts:
            self.say(response, prompt)
        options = {}
        if step.transcribe and step.lang in TRANSCRIBED_LANGUAGES and self.transcription_url:
            options = {"transcribe": True, "transcribe_callback": self.transcription_url}
        response.record(action=self.turn_url(step.node, step.lang, step.attempt, "record"), method="POST",
                        max_length=step.max_length, timeout=5, finish_on_key="#", play_beep=True, **options)
        response.redirect(self.turn_url(step.node, step.lang, step.attempt, "record"), method="POST")

    def _transfer(self, response: VoiceResponse, step: Transfer) -> None:
        """<Dial><Number> with an action so an unanswered transfer comes back to the flow."""
        dial = response.dial(action=self.turn_url(step.node, step.lang, 1, "dial"), method="POST",
                             timeout=step.destination.timeout, **self._recorded())
        number_options = {}
        if step.destination.send_digits:
            number_options["send_digits"] = step.destination.send_digits
        dial.number(step.destination.number, **number_options)

    def _enqueue(self, response: VoiceResponse, step: Enqueue) -> None:
        """Queue for a representative (TaskRouter task or named queue), or dial the call centre."""
        target = step.target
        action = self.turn_url(step.node, step.lang, 1, "queue")
        if target.mode == "dial":
            dial = response.dial(action=self.turn_url(step.node, step.lang, 1, "dial"), method="POST",
                                 timeout=target.timeout, **self._recorded())
            dial.number(target.number)
            return
        options = {"action": action, "method": "POST", "wait_url": self.wait_url(step.lang),
                   "wait_url_method": "POST"}
        if target.workflow_sid:
            enqueue = response.enqueue(workflow_sid=target.workflow_sid, **options)
            enqueue.task(json.dumps(target.attributes, sort_keys=True))
        else:
            response.enqueue(target.name, **options)

    def _join_conference(self, response: VoiceResponse, step: JoinConference) -> None:
        """Hand the call to the conference webhook, which dials the others in before the caller joins them."""
        # The REST requests that bring the others in are made there, outside this turn's database transaction.
        response.redirect(self.conference_url("dial", node=step.node, lang=step.lang), method="POST")

    def _recorded(self) -> dict:
        """<Dial> attributes that record the conversation once answered, when recording is on."""
        if not self.recording_url:
            return {}
        return {"record": "record-from-answer-dual", "recording_status_callback": self.recording_url,
                "recording_status_callback_method": "POST", "recording_status_callback_event": "completed"}


def join_conference(response: VoiceResponse, room: str, action: str, wait_url: str, events_url: str) -> None:
    """<Dial><Conference> for the caller: on hold until someone who starts the room joins; the room ends with them."""
    dial = response.dial(action=action, method="POST")
    dial.conference(room, start_conference_on_enter=False, end_conference_on_exit=True, wait_url=wait_url,
                    wait_method="POST", status_callback=events_url, status_callback_method="POST",
                    status_callback_event=CONFERENCE_EVENTS)


def conference_leg(voices: dict[str, Voice], room: str, *, ends_room: bool, whisper: Speak | None = None) -> str:
    """The TwiML of a call dialled into a conference (the Twiml of Calls create): a word to them, then the room."""
    response = VoiceResponse()
    if whisper is not None:
        voice = voices[whisper.lang]
        response.say(whisper.text, voice=voice.voice, language=voice.language)
    # Whoever answers starts the room (the caller stops hearing hold audio and can be greeted).
    response.dial().conference(room, start_conference_on_enter=True, end_conference_on_exit=ends_room)
    return str(response)


def hold(voices: dict[str, Voice], speeches: list[Speak], music_url: str, loops: int) -> VoiceResponse:
    """What a caller hears while waiting for someone to join: a word in each language, then the hold music."""
    response = speak_only(voices, speeches)
    response.play(music_url, loop=loops)
    return response


def speak_only(voices: dict[str, Voice], speeches: list[Speak], then_dial: str | None = None,
               hangup: bool = False) -> VoiceResponse:
    """A response that needs nothing but text: used by the fallback path."""
    response = VoiceResponse()
    for speak in speeches:
        voice = voices[speak.lang]
        response.say(speak.text, voice=voice.voice, language=voice.language)
    if then_dial:
        response.dial(then_dial)
    if hangup:
        response.hangup()
    return response


def message_only(text: str) -> MessagingResponse:
    """The answer to an incoming text message: one message back (status by text, ivr/voice/sms_status.py)."""
    response = MessagingResponse()
    response.message(text)
    return response
