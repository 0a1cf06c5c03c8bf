"""A stand-in for api.twilio.com on 127.0.0.1: records every request and answers as Twilio's REST API does.

Resources are routes: (method, path pattern, handler). The built-in ones are Messages (create) and
IncomingPhoneNumbers (list, update); a test or fixture adds others with `stand_in.route(...)`. A handler gets the
stand-in, the path's match and the form, and returns (HTTP status, JSON payload). `status` != 201 makes every
resource answer `error_body` with that status (Twilio refusing everything); `delay` stalls every answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT = r"/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})"
NOT_FOUND = {"code": 20404, "message": "The requested resource was not found", "status": 404}
INVALID_TO = {
    "code": 21211,
    "message": "The 'To' number is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211",
    "status": 400,
}

Handler = Callable[["StandIn", re.Match, dict], tuple[int, dict]]


class StandIn:
    """What the fake Twilio saw, and how it should answer the next request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201  # 201 = accept; anything else = every resource answers error_body with this status
        self.error_body: dict = INVALID_TO
        self.delay = 0.0  # seconds to stall before answering
        self.release = threading.Event()  # set at teardown so a stalled handler ends at once
        self.url = ""
        self.numbers: list[dict] = []  # IncomingPhoneNumber resources, as phone_number_resource() makes them
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.route("POST", rf"{ACCOUNT}/Messages\.json")(_create_message)
        self.route("GET", rf"{ACCOUNT}/IncomingPhoneNumbers\.json")(_list_numbers)
        self.route("POST", rf"{ACCOUNT}/IncomingPhoneNumbers/(?P<sid>PN[0-9a-f]{{32}})\.json")(_update_number)

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for `method` on paths matching `pattern` (query strings are ignored); newest first."""
        def register(handler: Handler) -> Handler:
            self.routes.insert(0, (method, re.compile(pattern + r"$"), handler))
            return handler
        return register

    def requests_to(self, pattern: str, method: str = "POST") -> list[dict]:
        """The requests made to paths matching `pattern`, in order."""
        compiled = re.compile(pattern + r"$")
        return [req for req in self.requests if req["method"] == method and compiled.match(req["path"].split("?")[0])]

    def answer(self, method: str, path: str, form: dict) -> tuple[int, dict]:
        """The status and payload for one request."""
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path.split("?")[0])
            if route_method == method and match:
                if self.status != 201:
                    return self.status, self.error_body
                return handler(self, match, form)
        return 404, NOT_FOUND


class _StandInHandler(BaseHTTPRequestHandler):
    server: _StandInServer

    def do_POST(self):  # noqa: N802 - the name http.server dispatches to
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        self.body = raw  # the form as sent: a repeated field (StatusCallbackEvent) keeps every value here
        self._handle({key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()})

    def do_GET(self):  # noqa: N802 - the name http.server dispatches to
        self.body = ""
        self._handle({})

    def do_DELETE(self):  # noqa: N802 - the name http.server dispatches to
        self.body = ""
        self._handle({})

    def _handle(self, form: dict) -> None:
        stand_in = self.server.stand_in
        stand_in.requests.append({"method": self.command, "path": self.path, "form": form,
                                  "authorization": self.headers.get("Authorization"), "body": self.body})
        if stand_in.delay:
            stand_in.release.wait(stand_in.delay)
        status, payload = stand_in.answer(self.command, self.path, form)
        data = b"" if status == 204 else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (timeout test)

    def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
        pass


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: StandIn

    def handle_error(self, request, client_address):
        pass  # a client hanging up mid-answer is expected in the timeout test


def serve(stand_in: StandIn) -> tuple[_StandInServer, threading.Thread]:
    """Serve the stand-in on a free loopback port from a thread; sets stand_in.url."""
    server = _StandInServer(("127.0.0.1", 0), _StandInHandler)
    server.stand_in = stand_in
    host, port = server.server_address[:2]
    stand_in.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def twilio_time() -> str:
    """Now, as Twilio writes dates in its resources (RFC 2822)."""
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())


def new_sid(prefix: str) -> str:
    """A fresh SID with Twilio's two-letter prefix."""
    return prefix + uuid.uuid4().hex


def _create_message(stand_in: StandIn, match: re.Match, form: dict) -> tuple[int, dict]:
    """POST Messages.json: a Message resource as Twilio returns it on create."""
    account_sid, sid, now = match["account"], new_sid("SM"), twilio_time()
    return 201, {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def _list_numbers(stand_in: StandIn, match: re.Match, form: dict) -> tuple[int, dict]:
    """GET IncomingPhoneNumbers.json: one page holding every number."""
    path = f"/2010-04-01/Accounts/{match['account']}/IncomingPhoneNumbers.json"
    return 200, {"incoming_phone_numbers": stand_in.numbers, "next_page_uri": None, "page": 0, "page_size": 50,
                 "start": 0, "end": max(len(stand_in.numbers) - 1, 0), "uri": path, "first_page_uri": path,
                 "previous_page_uri": None}


def _update_number(stand_in: StandIn, match: re.Match, form: dict) -> tuple[int, dict]:
    """POST IncomingPhoneNumbers/{Sid}.json: the form's fields (VoiceUrl -> voice_url) set on the resource."""
    number = next((number for number in stand_in.numbers if number["sid"] == match["sid"]), None)
    if number is None:
        return 404, NOT_FOUND
    number.update({re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in form.items()})
    return 200, number


def phone_number_resource(account_sid: str, phone_number: str, **fields) -> dict:
    """An IncomingPhoneNumber resource as Twilio lists it: a new number points nowhere until told."""
    sid = new_sid("PN")
    return {"sid": sid, "account_sid": account_sid, "phone_number": phone_number, "friendly_name": phone_number,
            "voice_url": "", "voice_method": "POST", "voice_fallback_url": "", "voice_fallback_method": "POST",
            "status_callback": "", "status_callback_method": "POST", "voice_application_sid": "",
            "sms_url": "", "sms_method": "POST", "sms_application_sid": "",
            "uri": f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json", **fields}
