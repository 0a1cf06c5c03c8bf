"""A caller that talks to the IVR the way Twilio's voice platform does, for tests and the terminal.

It signs every webhook with ``X-Twilio-Signature``, executes the returned TwiML verb by verb,
waits at <Gather>/<Record> for the (simulated) caller, follows action/Redirect URLs and posts
the status callback when the call ends. Flask is deliberately not imported: the same code
drives a live server over HTTP (``HttpTransport``) or a Flask test client (``WsgiTransport``).

Waiting in line: with ``call.wait_in_line(position=3, ...)`` before an <Enqueue>, the caller stays in the queue
and the simulator fetches its waitUrl with QueuePosition, CurrentQueueSize, QueueTime and AvgQueueTime as Twilio
does, running the Say/Play/Pause/Gather/Redirect/Leave/Hangup it answers. When a wait document ends the caller
waits (``pending_verb == "Enqueue"``) until the test calls ``keep_waiting()`` (the waitUrl again),
``answered()`` (a representative takes the call: QueueResult=bridged) or ``hangup()`` (QueueResult=hangup);
<Leave/> posts the Enqueue's action with QueueResult=leave and the call goes on there.

Transcript line kinds: say, play, pause, you (caller input), dial, enqueue, record, hangup,
event (simulated outcomes: dial result, agent connected, waiting in line, in conference), http (non-2xx or
non-TwiML answer), unknown (verbs the simulator does not execute).

<Dial><Conference> leaves the call "in conference" (``Call.conference``) until the test plays Twilio's side:
``conference_event`` posts the room's status callbacks, ``leave_conference`` ends the <Dial> (its action is
called), ``follow_redirect`` does what a REST ``Calls update Url`` does, and ``Simulator.outbound_status`` posts
a REST-created call's status callback.
"""

import re
import secrets
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import NamedTuple, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from ivr.twiml_check import check_twiml

API_VERSION = "2010-04-01"
APPLICATION_ERROR = "We're sorry, an application error has occurred. Goodbye."
TWIML_CONTENT_TYPES = {"text/xml", "application/xml", "text/html"}
DIAL_RESULTS = {"completed", "no-answer", "busy", "failed", "canceled"}
SECONDS_PER_TURN = 5
ANSWERED_DIAL_SECONDS = "42"
QUEUE_SECONDS = "15"
WAIT = "wait"  # a queue result that keeps the caller in line, running the waitUrl
QUEUE_FIELDS = {"position": "QueuePosition", "size": "CurrentQueueSize", "waited": "QueueTime",
                "average": "AvgQueueTime"}
MAX_REQUESTS = 200
# Conference events by the short name <Conference statusCallbackEvent> subscribes to them with.
CONFERENCE_EVENTS = {"conference-start": "start", "conference-end": "end", "participant-join": "join",
                     "participant-leave": "leave", "participant-mute": "mute", "participant-unmute": "mute",
                     "participant-hold": "hold", "participant-unhold": "hold", "participant-modify": "modify"}
FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}


class SimulatorError(Exception):
    """The simulated caller was asked to do something the call does not allow."""


class SimulatorLoopError(SimulatorError):
    """A call made more webhook requests than any real flow should."""


class Response(NamedTuple):
    """What a transport got back: status code, body text and Content-Type header."""

    status: int
    body: str
    content_type: str


class Transport(Protocol):
    """Delivers one signed webhook request to the application."""

    def request(self, method: str, url: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        """Send the request for the public ``url`` and return the answer."""


class HttpTransport:
    """Sends webhooks over real HTTP to a running server (e.g. ``flask run`` on port 5000)."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        """Remember the server root; the path and query come from each request's URL."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, url: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        """POST form-encoded params (or GET) to base_url + the URL's path and query."""
        data = urlencode(params).encode() if method == "POST" else None
        all_headers = dict(headers)
        if data is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base_url + path_and_query(url), data, all_headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as answer:
                return _read_http(answer, answer.status)
        except urllib.error.HTTPError as err:  # 4xx/5xx are answers Twilio would see, not failures here
            return _read_http(err, err.code)

    def post(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        """POST to a path (with query string) on the server."""
        return self.request("POST", self.base_url + path, params, headers)


class WsgiTransport:
    """Sends webhooks through a Flask/Werkzeug test client, no server needed."""

    def __init__(self, client, public_host: bool = True):
        """Wrap a client with .post/.get(path, data=..., headers=...).

        With public_host the request is built under the public URL's scheme and host, so the
        app's ``request.url`` equals the URL that was signed, as behind a well-configured proxy.
        """
        self.client = client
        self.public_host = public_host

    def request(self, method: str, url: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        """Call the client's post/get with the URL's path and query."""
        kwargs: dict = {"headers": headers}
        if method == "POST":
            kwargs["data"] = params
        if self.public_host:
            parts = urlsplit(url)
            kwargs["base_url"] = f"{parts.scheme}://{parts.netloc}"
        return _convert(getattr(self.client, method.lower())(path_and_query(url), **kwargs))

    def post(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        """POST to a path (with query string) through the client, under its default host."""
        return _convert(self.client.post(path, data=params, headers=headers))


def _convert(answer) -> Response:
    """Convert a Flask/Werkzeug test-client response."""
    return Response(answer.status_code, answer.get_data(as_text=True), answer.content_type or "")


def _read_http(answer, status: int) -> Response:
    """Read a urllib response (or HTTPError) into a Response."""
    charset = answer.headers.get_content_charset() or "utf-8"
    return Response(status, answer.read().decode(charset, "replace"), answer.headers.get("Content-Type", ""))


def path_and_query(url: str) -> str:
    """Return the path plus query string of an absolute URL."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def random_sid(prefix: str) -> str:
    """Return a Twilio-shaped SID: two-letter prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass
class Line:
    """One thing that happened on the call, as the caller would notice it."""

    kind: str
    text: str
    lang: str | None = None


@dataclass
class Room:
    """The conference a call joined with <Dial><Conference>, and the <Dial> that put it there."""

    name: str
    sid: str
    dial: ET.Element
    noun: ET.Element
    events_sent: int = 0


def twilio_time() -> str:
    """Now, as Twilio writes timestamps in its callbacks (RFC 2822)."""
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())


@dataclass
class Exchange:
    """One webhook request the simulator made and the status it got back."""

    method: str
    url: str
    params: dict[str, str]
    status: int
    body: str


class Simulator:
    """Places simulated inbound calls to the IVR the way Twilio would."""

    def __init__(
        self,
        transport: Transport,
        auth_token: str,
        public_base_url: str = "http://127.0.0.1:5000",
        voice_path: str = "/voice",
        status_path: str | None = "/voice/status",
        to: str = "+18607579311",
        from_: str = "+18605550100",
        dial_result: str = "no-answer",
        call_sid: str | None = None,
        *,
        queue_result: str = "bridged",
        account_sid: str | None = None,
        max_requests: int = MAX_REQUESTS,
    ):
        """Configure the number dialled, the caller, the webhooks and the simulated outcomes."""
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/")
        self.voice_path = voice_path
        self.status_path = status_path
        self.to = to
        self.from_ = from_
        self.dial_result = dial_result
        self.queue_result = queue_result
        self.call_sid = call_sid
        self.account_sid = account_sid or random_sid("AC")
        self.max_requests = max_requests

    def url(self, path: str) -> str:
        """Return the public URL of a path on the application."""
        return self.public_base_url + path

    def dial(self) -> "Call":
        """Place a call to the voice URL and run it until it waits for the caller or ends."""
        call = Call(self, self.call_sid or random_sid("CA"))
        call._fetch(self.url(self.voice_path), "POST", {})
        call._run()
        return call

    def sign(self, url: str, params: dict[str, str]) -> str:
        """Compute X-Twilio-Signature exactly as Twilio does."""
        return self.validator.compute_signature(url, params)

    def deliver(self, url: str, method: str, params: dict[str, str]) -> tuple[str, dict[str, str], Response]:
        """Sign and send one request as Twilio does; returns the URL and parameters sent, and the answer."""
        method = method.upper()
        if method == "GET":
            # Twilio moves the parameters into the query string and signs the resulting URL.
            url += ("&" if urlsplit(url).query else "?") + urlencode(params)
            params = {}
        headers = {"X-Twilio-Signature": self.sign(url, params), "User-Agent": "TwilioProxy/1.1"}
        return url, params, self.transport.request(method, url, params, headers)

    def outbound_status(self, url: str, call_sid: str, to: str, from_: str, status: str, method: str = "POST",
                        duration: int = 0, sequence: int = 0) -> Response:
        """Post the status callback of a call the app created through the REST API (Calls create)."""
        params = {"CallSid": call_sid, "AccountSid": self.account_sid, "From": from_, "To": to, "Called": to,
                  "Caller": from_, "CallStatus": status, "Direction": "outbound-api", "ApiVersion": API_VERSION,
                  "CallbackSource": "call-progress-events", "SequenceNumber": str(sequence),
                  "Timestamp": twilio_time()}
        if status in FINAL_CALL_STATUSES:
            params["CallDuration"] = str(duration)
        return self.deliver(url, method, params)[2]


class Call:
    """One simulated call: the transcript so far and the caller's controls."""

    def __init__(self, sim: Simulator, call_sid: str):
        """Start an empty call; Simulator.dial() makes the first request."""
        self.sim = sim
        self.call_sid = call_sid
        self.transcript: list[Line] = []
        self.requests: list[Exchange] = []
        self.twiml_problems: list[str] = []
        self.ended = False
        self.application_error = False
        self.last_gather: dict[str, str | None] | None = None
        self.next_dial_result = sim.dial_result
        self.next_queue_result = sim.queue_result
        self._verbs: list[ET.Element] = []
        self._doc_url = sim.url(sim.voice_path)
        self._pending: ET.Element | None = None
        self._voice_requests = 0
        self.room: Room | None = None  # the last conference joined (kept after leaving, for its late events)
        self._in_room = False
        self._queue: ET.Element | None = None  # the <Enqueue> the caller waits in, while they wait
        self._queue_url = ""  # the document that held it (its action and waitUrl resolve against it)
        self._queue_sid = ""
        self.queue_stats: dict[str, str] = {}

    # --- what the caller observes -------------------------------------------------------------

    @property
    def waiting_for_input(self) -> bool:
        """True while a <Gather> or <Record> waits for the caller."""
        return self._pending is not None and not self.ended

    @property
    def pending_verb(self) -> str | None:
        """The tag of the verb waiting for the caller ("Gather" or "Record"), if any."""
        return self._pending.tag if self.waiting_for_input else None

    @property
    def conference(self) -> str | None:
        """The name of the conference the call is in now, if any."""
        return self.room.name if self._in_room and not self.ended else None

    @property
    def in_line(self) -> bool:
        """True while the caller waits in a queue (hearing the waitUrl, or between its documents)."""
        return self._queue is not None and not self.ended

    def heard(self) -> list[str]:
        """Return the texts of every <Say> the caller heard (and Twilio's error message), in order."""
        return [line.text for line in self.transcript if line.kind == "say"]

    # --- the caller's controls ----------------------------------------------------------------

    def press(self, digits: str) -> "Call":
        """Press keys at a <Gather>; digits after finishOnKey or beyond numDigits are not sent."""
        gather = self._expect("Gather")
        if not DIGITS.match(digits):
            raise ValueError(f"a phone can only press 0-9, * and #, not {digits!r}")
        self._add("you", f"press {digits}")
        if "dtmf" not in self.last_gather["input"].split():
            return self._no_input()  # Twilio ignores keys a speech-only Gather isn't listening for
        finish = self.last_gather["finishOnKey"]
        if finish and finish in digits:
            digits = digits[: digits.index(finish)]
        num_digits = gather.get("numDigits", "")
        if num_digits.isdigit():
            digits = digits[: int(num_digits)]
        if not digits:
            return self._no_input()
        return self._submit({"Digits": digits})

    def say(self, speech: str, confidence: float = 0.9) -> "Call":
        """Speak at a <Gather>; Twilio posts SpeechResult and Confidence."""
        self._expect("Gather")
        self._add("you", f'say "{speech}"')
        if "speech" not in self.last_gather["input"].split():
            return self._no_input()
        return self._submit({"SpeechResult": speech, "Confidence": str(confidence)})

    def silence(self) -> "Call":
        """Let a <Gather> or <Record> time out."""
        self._expect("Gather", "Record")
        self._add("you", "silence")
        return self._no_input()

    def record(self, duration: int = 5) -> "Call":
        """Leave a message at a <Record>; Twilio posts the recording to the action URL."""
        record = self._expect("Record")
        self._add("you", f"record {duration}s")
        self._pending = None
        self._fetch(self._action_url(record), record.get("method", "POST"), self._recording_params(duration))
        return self._run()

    def hangup(self) -> "Call":
        """Hang up as the caller; a pending <Record> still delivers its recording first, a queue its result."""
        if self.ended:
            raise SimulatorError("the call has already ended")
        self._add("you", "hangup")
        self._in_room = False  # a caller who hangs up in a conference leaves it; its <Dial> action is not called
        pending, self._pending = self._pending, None
        if pending is not None and pending.tag == "Record":
            params = self._recording_params(SECONDS_PER_TURN) | {"Digits": "hangup"}
            self._request(self._action_url(pending), pending.get("method", "POST"), params)
        if self._queue is not None:
            self._leave_queue("hangup", follow=False)
        self._end()
        return self

    # --- Twilio's side of a conference -------------------------------------------------------

    def conference_event(self, event: str, call_sid: str | None = None, **fields: str) -> Response:
        """Post one of the room's status callbacks (e.g. "participant-join" of another call), as Twilio does.

        Only events the <Conference> subscribed to are sent; participant events carry the participant's
        CallSid (the caller's by default) and its flags, which `fields` may set (EndConferenceOnExit="true").
        """
        room = self.room
        if room is None:
            raise SimulatorError("the call has not joined a conference")
        url = room.noun.get("statusCallback")
        if not url or CONFERENCE_EVENTS.get(event) not in room.noun.get("statusCallbackEvent", "").split():
            raise SimulatorError(f"the conference does not report {event!r}")
        room.events_sent += 1
        params = {"AccountSid": self.sim.account_sid, "ConferenceSid": room.sid, "FriendlyName": room.name,
                  "StatusCallbackEvent": event, "Timestamp": twilio_time(), "SequenceNumber": str(room.events_sent)}
        if event.startswith("participant-"):
            own = call_sid is None or call_sid == self.call_sid
            params |= {"CallSid": call_sid or self.call_sid, "Muted": "false", "Hold": "false", "Coaching": "false",
                       "EndConferenceOnExit": room.noun.get("endConferenceOnExit", "false") if own else "false",
                       "StartConferenceOnEnter": room.noun.get("startConferenceOnEnter", "true") if own else "true"}
        params |= fields
        url, params, answer = self.sim.deliver(self._resolve(url), room.noun.get("statusCallbackMethod", "POST"),
                                               params)
        self.requests.append(Exchange(room.noun.get("statusCallbackMethod", "POST").upper(), url, params,
                                      answer.status, answer.body))
        return answer

    def leave_conference(self, dial_status: str = "answered") -> "Call":
        """The room ended around the caller: Twilio ends the <Dial> and calls its action (or goes on)."""
        dial = self._leave_room()
        self._add("event", f"conference over: {dial_status}")
        if dial.get("action"):
            self._fetch(self._action_url(dial), dial.get("method", "POST"), {"DialCallStatus": dial_status})
        return self._run()

    def follow_redirect(self, url: str, method: str = "POST") -> "Call":
        """What a REST Calls update with Url does: the call drops what it is doing and runs the TwiML at `url`."""
        if self.ended:
            raise SimulatorError("the call has ended")
        if self._in_room:
            self._leave_room()  # the <Dial> is abandoned: its action is not called
        self._pending = None
        self._add("event", "redirected through the REST API")
        self._fetch(url, method, {})
        return self._run()

    def _leave_room(self) -> ET.Element:
        """Take the call out of its conference; the <Dial> that put it there."""
        if not self._in_room or self.ended:
            raise SimulatorError("the call is not in a conference")
        self._in_room = False
        return self.room.dial

    # --- waiting in line ----------------------------------------------------------------------

    def wait_in_line(self, position: int, size: int | None = None, waited: int = 0,
                     average: int | None = None) -> "Call":
        """Make the next <Enqueue> keep the caller in line, with what Twilio tells its waitUrl."""
        self.next_queue_result = WAIT
        return self._set_queue_stats(position=position, size=size or position, waited=waited,
                                     average=waited if average is None else average)

    def keep_waiting(self, **stats: int) -> "Call":
        """The wait document ended: Twilio asks the waitUrl again (with the line as it is now)."""
        self._expect("Enqueue")
        self._set_queue_stats(**stats)
        self._pending = None
        self._fetch_wait()
        return self._run()

    def answered(self) -> "Call":
        """A representative takes the call from the line: the Enqueue's action hears QueueResult=bridged."""
        if not self.in_line:
            raise SimulatorError("the caller is not waiting in line")
        self._pending = None
        self._add("event", "connected to agent")
        self._leave_queue("bridged", follow=False)
        self._end()
        return self

    def _set_queue_stats(self, **stats: int | None) -> "Call":
        """Keep the queue figures given, as Twilio's field names."""
        for name, value in stats.items():
            if name not in QUEUE_FIELDS:
                raise ValueError(f"unknown queue figure {name!r} (one of {', '.join(QUEUE_FIELDS)})")
            if value is not None:
                self.queue_stats[QUEUE_FIELDS[name]] = str(value)
        return self

    def _fetch_wait(self) -> None:
        """Request the queue's waitUrl, as Twilio does each time the previous wait document ends."""
        queue = self._queue
        url = urljoin(self._queue_url, queue.get("waitUrl", ""))
        self._fetch(url, queue.get("waitUrlMethod", "POST"), self._wait_params())

    def _wait_params(self) -> dict[str, str]:
        """What Twilio posts to the waitUrl about the line."""
        return {"QueueSid": self._queue_sid, **self.queue_stats}

    def _leave_queue(self, result: str, follow: bool = True) -> None:
        """The caller leaves the line: post the Enqueue's action (and, when follow, carry on with its answer)."""
        queue, self._queue = self._queue, None
        if not queue.get("action"):
            return
        params = {"QueueResult": result, "QueueTime": self.queue_stats.get("QueueTime", QUEUE_SECONDS),
                  "QueueSid": self._queue_sid}
        url = urljoin(self._queue_url, queue.get("action"))
        if follow:
            self._fetch(url, queue.get("method", "POST"), params)
        else:
            self._request(url, queue.get("method", "POST"), params)

    # --- the TwiML interpreter ----------------------------------------------------------------

    def _run(self) -> "Call":
        """Execute verbs until the call waits for the caller (in line, or in a conference) or ends."""
        while not self.ended and self._pending is None and not self._in_room:
            if not self._verbs and self._queue is not None:
                self._pending = self._queue  # between wait documents: still in line, until the test says
                break
            if not self._verbs:
                self._end()  # Twilio hangs up when a document runs out of verbs
                break
            verb = self._verbs.pop(0)
            VERBS.get(verb.tag, Call._verb_unknown)(self, verb)
        return self

    def _verb_say(self, el: ET.Element) -> None:
        """Speak the text, including SSML children."""
        self._add("say", spoken_text(el), el.get("language"))

    def _verb_play(self, el: ET.Element) -> None:
        """Play audio or DTMF tones."""
        self._add("play", (el.text or "").strip() or f"digits {el.get('digits', '')}")

    def _verb_pause(self, el: ET.Element) -> None:
        """Stay silent for a while."""
        self._add("pause", f"{el.get('length', '1')}s")

    def _verb_gather(self, el: ET.Element) -> None:
        """Play the nested prompts, then wait for the caller."""
        for child in el:
            VERBS.get(child.tag, Call._verb_unknown)(self, child)
        self.last_gather = {
            "input": el.get("input", "dtmf"),
            "numDigits": el.get("numDigits"),
            "finishOnKey": el.get("finishOnKey", "#"),
            "timeout": el.get("timeout", "5"),
            "language": el.get("language", "en-US"),
            "action": self._action_url(el),
            "method": el.get("method", "POST"),
            "actionOnEmptyResult": el.get("actionOnEmptyResult", "false"),
        }
        self._pending = el

    def _verb_record(self, el: ET.Element) -> None:
        """Beep and wait for the caller's message."""
        self._add("record", f"max {el.get('maxLength', '3600')}s")
        self._pending = el

    def _verb_redirect(self, el: ET.Element) -> None:
        """Continue with the TwiML at another URL (in line, a wait document with the queue's figures)."""
        extra = self._wait_params() if self._queue is not None else {}
        self._fetch(self._resolve((el.text or "").strip()), el.get("method", "POST"), extra)

    def _verb_hangup(self, el: ET.Element) -> None:
        """End the call from the application side."""
        self._add("hangup", "")
        if self._queue is not None:
            self._leave_queue("hangup", follow=False)
        self._end()

    def _verb_leave(self, el: ET.Element) -> None:
        """In a wait document: leave the line, and go on with the Enqueue's action (QueueResult=leave)."""
        if self._queue is None:
            self._verb_unknown(el)  # Twilio ignores <Leave> outside a queue
            return
        self._add("event", "left the line")
        self._leave_queue("leave")

    def _verb_reject(self, el: ET.Element) -> None:
        """Refuse the call."""
        self._add("hangup", f"rejected ({el.get('reason', 'rejected')})")
        self._end()

    def _verb_dial(self, el: ET.Element) -> None:
        """Dial out; the outcome is simulated from next_dial_result (a conference waits for the test)."""
        self._add("dial", describe_dial(el))
        noun = el.find("Conference")
        if noun is not None:
            self.room = Room((noun.text or "").strip(), random_sid("CF"), el, noun)
            self._in_room = True
            self._add("event", f"in conference {self.room.name}")
            return
        result, self.next_dial_result = self.next_dial_result, self.sim.dial_result
        if result not in DIAL_RESULTS:
            raise ValueError(f"dial result {result!r} is not one of {sorted(DIAL_RESULTS)}")
        self._add("event", f"dial result: {result}")
        if el.get("action"):
            duration = ANSWERED_DIAL_SECONDS if result == "completed" else "0"
            params = {"DialCallStatus": result, "DialCallDuration": duration}
            self._fetch(self._action_url(el), el.get("method", "POST"), params)
        # Without an action Twilio simply carries on with the next verb.

    def _verb_enqueue(self, el: ET.Element) -> None:
        """Put the caller in a queue; the outcome is simulated from next_queue_result."""
        self._add("enqueue", describe_enqueue(el))
        result, self.next_queue_result = self.next_queue_result, self.sim.queue_result
        if result == WAIT and el.get("waitUrl"):
            self._queue, self._queue_url, self._queue_sid = el, self._doc_url, random_sid("QU")
            self._add("event", f"waiting in line at {self.queue_stats.get('QueuePosition', '?')}")
            self._fetch_wait()
            return
        if result == WAIT:
            result = "bridged"  # no waitUrl: Twilio's own music, then (in the simulation) a representative
        if result == "bridged":
            self._add("event", "connected to agent")
        else:
            self._add("event", f"queue result: {result}")
        if el.get("action"):
            params = {"QueueResult": result, "QueueTime": QUEUE_SECONDS, "QueueSid": random_sid("QU")}
            self._fetch(self._action_url(el), el.get("method", "POST"), params)
        if result in {"bridged", "hangup"}:
            self._end()  # the caller talked to an agent (or gave up): the IVR's part is over

    def _verb_unknown(self, el: ET.Element) -> None:
        """Note a verb the simulator does not execute and move on."""
        self._add("unknown", f"unsupported verb <{el.tag}>")

    # --- plumbing -----------------------------------------------------------------------------

    def _expect(self, *tags: str) -> ET.Element:
        """Return the pending verb if it is one of tags, else explain why the caller can't act."""
        if self.ended:
            raise SimulatorError("the call has ended")
        if self._pending is None or self._pending.tag not in tags:
            waiting = f"<{self._pending.tag}>" if self._pending is not None else "nothing"
            raise SimulatorError(f"the call is waiting for {waiting}, not <{'/'.join(tags)}>")
        return self._pending

    def _no_input(self) -> "Call":
        """Time out the pending verb as Twilio does."""
        pending, self._pending = self._pending, None
        if pending.tag == "Gather" and pending.get("actionOnEmptyResult", "").lower() == "true":
            self._fetch(self._action_url(pending), pending.get("method", "POST"), {})
        # Otherwise Twilio falls through to the verb after the Gather/Record.
        return self._run()

    def _submit(self, params: dict[str, str]) -> "Call":
        """Send the caller's input to the pending Gather's action and continue there."""
        gather, self._pending = self._pending, None
        self._fetch(self._action_url(gather), gather.get("method", "POST"), params)
        return self._run()

    def _recording_params(self, duration: int) -> dict[str, str]:
        """Return the parameters Twilio posts when a recording is complete."""
        recording_sid = random_sid("RE")
        url = f"https://api.twilio.com/{API_VERSION}/Accounts/{self.sim.account_sid}/Recordings/{recording_sid}"
        return {"RecordingUrl": url, "RecordingDuration": str(duration), "RecordingSid": recording_sid}

    def _action_url(self, el: ET.Element) -> str:
        """Return the absolute action URL of a verb; Twilio defaults to the current document."""
        return self._resolve(el.get("action", ""))

    def _resolve(self, url: str) -> str:
        """Resolve a (possibly relative) URL against the document that contained it."""
        return urljoin(self._doc_url, url) if url else self._doc_url

    def _add(self, kind: str, text: str, lang: str | None = None) -> None:
        """Append a line to the transcript."""
        self.transcript.append(Line(kind, text, lang))

    def _fetch(self, url: str, method: str, extra: dict[str, str]) -> None:
        """Request TwiML and make it the document being executed, or fail like Twilio."""
        answer = self._request(url, method, extra)
        verbs, problem = parse_twiml(answer)
        if verbs is None:
            self._application_error(f"{answer.status} from {method.upper()} {url}: {problem}")
            return
        self.twiml_problems += [f"{url}: {p}" for p in check_twiml(answer.body)]
        self._doc_url = url
        self._verbs = verbs

    def _application_error(self, text: str) -> None:
        """Play Twilio's application-error message and end the call."""
        self.application_error = True
        self._add("http", text)
        self._add("say", APPLICATION_ERROR, "en-US")
        self._end()

    def _request(self, url: str, method: str, extra: dict[str, str]) -> Response:
        """Send one signed voice webhook, counting it against the loop bound."""
        if self._voice_requests >= self.sim.max_requests:
            self.ended = True
            raise SimulatorLoopError(f"more than {self.sim.max_requests} requests in one call; last: {url}")
        status = "ringing" if self._voice_requests == 0 else "in-progress"
        self._voice_requests += 1
        return self._send(url, method, self._base_params(status) | extra)

    def _send(self, url: str, method: str, params: dict[str, str]) -> Response:
        """Sign and send a request, logging it in self.requests."""
        url, params, answer = self.sim.deliver(url, method, params)
        self.requests.append(Exchange(method.upper(), url, params, answer.status, answer.body))
        return answer

    def _base_params(self, call_status: str) -> dict[str, str]:
        """Return the parameters Twilio sends with every webhook of an inbound call."""
        sim = self.sim
        return {
            "CallSid": self.call_sid,
            "AccountSid": sim.account_sid,
            "From": sim.from_,
            "To": sim.to,
            "Called": sim.to,
            "Caller": sim.from_,
            "CallStatus": call_status,
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
        }

    def _end(self) -> None:
        """Mark the call over and post the status callback, exactly once."""
        if self.ended:
            return
        self.ended = True
        self._pending = None
        if not self.sim.status_path:
            return
        duration = str(SECONDS_PER_TURN * self._voice_requests)
        params = self._base_params("completed") | {"CallDuration": duration}
        url = self.sim.url(self.sim.status_path)
        answer = self._send(url, "POST", params)
        if not 200 <= answer.status < 300:
            # The caller is gone by now; Twilio only logs a failed status callback.
            self._add("http", f"{answer.status} from status callback POST {url}")


VERBS = {
    "Say": Call._verb_say,
    "Play": Call._verb_play,
    "Pause": Call._verb_pause,
    "Gather": Call._verb_gather,
    "Record": Call._verb_record,
    "Redirect": Call._verb_redirect,
    "Hangup": Call._verb_hangup,
    "Reject": Call._verb_reject,
    "Dial": Call._verb_dial,
    "Enqueue": Call._verb_enqueue,
    "Leave": Call._verb_leave,
}


def parse_twiml(answer: Response) -> tuple[list[ET.Element] | None, str]:
    """Return the verbs of a TwiML answer, or None and the reason Twilio would reject it."""
    if not 200 <= answer.status < 300:
        return None, "HTTP error"
    content_type = answer.content_type.split(";")[0].strip().lower()
    if content_type not in TWIML_CONTENT_TYPES:
        return None, f"Content-Type {content_type or '(none)'} is not TwiML"
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as err:
        return None, f"not XML ({err})"
    if root.tag != "Response":
        return None, f"root element <{root.tag}> is not <Response>"
    return list(root), ""


def spoken_text(el: ET.Element) -> str:
    """Return what a <Say> speaks: its text and SSML children's text, whitespace normalised."""
    text = ""
    for piece in filter(None, _text_pieces(el)):
        # Speech engines treat a markup boundary as a word boundary ("is<say-as>4821" is "is 4821"),
        # except before punctuation.
        if text and not text[-1].isspace() and not piece[0].isspace() and piece[0] not in ".,;:!?":
            text += " "
        text += piece
    return " ".join(text.split())


def _text_pieces(el: ET.Element) -> list[str]:
    """Return the text nodes of an element in document order, split at every markup boundary."""
    pieces = [el.text or ""]
    for child in el:
        pieces += _text_pieces(child) + [child.tail or ""]
    return pieces


def describe_dial(el: ET.Element) -> str:
    """Describe whom a <Dial> calls, e.g. '+18605551234 (sendDigits 1234#)'."""
    targets = [(el.text or "").strip()] if (el.text or "").strip() else []
    for child in el:
        target = (child.text or "").strip()
        if child.tag != "Number":
            target = f"{child.tag.lower()}:{target}"
        if child.get("sendDigits"):
            target += f" (sendDigits {child.get('sendDigits')})"
        targets.append(target)
    return ", ".join(targets)


def describe_enqueue(el: ET.Element) -> str:
    """Describe an <Enqueue>: queue name (or workflow) and the <Task> attributes."""
    name = (el.text or "").strip() or f"(workflow {el.get('workflowSid', '?')})"
    task = el.find("Task")
    return f"{name} {task.text.strip()}" if task is not None and task.text else name


# --- scripts ---------------------------------------------------------------------------------

DIGITS = re.compile(r"^[0-9*#]+$")
OUTCOME_STEPS = {"<answer>": "completed", "<no-answer>": "no-answer", "<busy>": "busy", "<failed>": "failed"}


def parse_script(text: str) -> list[str]:
    """Split a comma-separated script such as "2,1,<silence>,say:hola" into steps."""
    return [step.strip() for step in text.split(",") if step.strip()]


def apply_step(call: Call, step: str) -> None:
    """Perform one script step on the call.

    Steps: digits ("2", "1234#"), "say:words", "<silence>", "<record>", "<hangup>", and
    "<answer>"/"<no-answer>"/"<busy>"/"<failed>", which set the outcome of the next <Dial>
    and so must come before the input that leads to it.
    """
    if step in OUTCOME_STEPS:
        call.next_dial_result = OUTCOME_STEPS[step]
    elif step == "<silence>":
        call.silence()
    elif step == "<record>":
        call.record()
    elif step == "<hangup>":
        call.hangup()
    elif step.startswith("say:"):
        call.say(step[4:].strip())
    elif DIGITS.match(step):
        call.press(step)
    else:
        raise ValueError(f"unknown script step {step!r}")


def run_script(sim: Simulator, steps: list[str] | str) -> Call:
    """Dial and play the steps in order; a step the call can't take raises with the transcript."""
    if isinstance(steps, str):
        steps = parse_script(steps)
    call = sim.dial()
    for number, step in enumerate(steps, 1):
        try:
            apply_step(call, step)
        except SimulatorError as err:
            raise SimulatorError(f"step {number} {step!r}: {err}\n{format_transcript(call)}") from err
    return call


# --- presentation ----------------------------------------------------------------------------

CALLER_ACTIONS = {
    "press": "CALLER PRESSES: {}",
    "say": "CALLER SAYS: {}",
    "record": "CALLER RECORDS: {} message",
    "silence": "CALLER IS SILENT",
    "hangup": "CALLER HANGS UP",
}
FORMATS = {
    "play": "CALLER HEARS AUDIO: {}",
    "pause": "(pause {})",
    "dial": "-> DIAL {}",
    "enqueue": "-> ENQUEUE {}",
    "record": "-> RECORD (beep, {})",
    "hangup": "-> HANGUP {}",
    "event": "-- {} --",
    "http": "!! HTTP {}",
    "unknown": "?? {}",
}


def format_line(line: Line) -> str:
    """Render one transcript line as readable ASCII."""
    if line.kind == "say":
        return f"CALLER HEARS ({line.lang}): {line.text}" if line.lang else f"CALLER HEARS: {line.text}"
    if line.kind == "you":
        action, _, rest = line.text.partition(" ")
        return CALLER_ACTIONS[action].format(rest) if action in CALLER_ACTIONS else f"CALLER: {line.text}"
    return FORMATS.get(line.kind, line.kind + ": {}").format(line.text).rstrip()


def format_transcript(call: Call) -> str:
    """Render the whole call, one line per event, ending with '-- call ended --' if it ended."""
    lines = [format_line(line) for line in call.transcript]
    if call.ended:
        lines.append("-- call ended --")
    return "\n".join(lines)


HELP = "keys: digits (e.g. 2 or 1234#) | s:words or 'say words' to speak | Enter = silence | q = hang up"


def interactive(call: Call, input_fn=input, print_fn=print) -> Call:
    """Drive a call from the terminal, printing what the caller hears as it happens."""
    print_fn(HELP)
    shown = 0
    while True:
        for line in call.transcript[shown:]:
            print_fn(format_line(line))
        shown = len(call.transcript)
        if call.ended:
            print_fn("-- call ended --")
            return call
        prompt = "[r = record, Enter = silence, q = hang up] > " if call.pending_verb == "Record" else "> "
        try:
            raw = input_fn(prompt)
        except EOFError:
            raw = "q"
        try:
            _apply_typed(call, raw.strip())
        except (ValueError, SimulatorError) as err:
            print_fn(f"{err}\n{HELP}")


def _apply_typed(call: Call, typed: str) -> None:
    """Turn one line typed at the terminal into a caller action."""
    lowered = typed.lower()
    if not typed:
        call.silence()
    elif lowered == "q":
        call.hangup()
    elif lowered in {"r", "record"}:
        call.record()
    elif lowered.startswith("s:"):
        call.say(typed[2:].strip())
    elif lowered.startswith("say "):
        call.say(typed[4:].strip())
    elif DIGITS.match(typed):
        call.press(typed)
    else:
        raise ValueError(f"don't know how to do {typed!r}")
