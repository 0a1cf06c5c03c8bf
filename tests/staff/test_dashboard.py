"""The supervisor's pages: figures that match the calls and cases, the closure switch, accounts, the audit log."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from base64 import b64decode
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from ivr import cases
from ivr.cases import NewCase
from ivr.models import Announcement, Call, CallTurn, Closure, StaffAuditEvent
from ivr.staff import accounts
from tests.conftest import STAFF_PASSWORD, form_token, hartford, sign_in

DASHBOARD = "/staff/supervisor/"
PERIOD = "?from=2026-11-26&to=2026-12-02"


class Tables(HTMLParser):
    """Every <table id=...> of a page as rows of cell texts."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rows_by_label(table: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table[1:]}


def add_call(db, sid: str, at, route: str, language: str, outcome: str | None, checked: bool = False) -> None:
    call = Call(call_sid=sid, from_number="+18605550100", to_number="+18605550000", route=route, language=language,
                started_at=at, outcome=outcome, answers={})
    db.add(call)
    db.flush()
    if checked:
        db.add(CallTurn(call_id=call.id, node="status_start", event="digits", input="12345678",
                        next_node="status_read", at=at))
    db.commit()


@pytest.fixture
def week(app, db):
    """Six calls in the period (two after hours) and one before it; Public Works: two cases requested in the
    period (one closed in time, one not yet due) and one from before it, still open and overdue."""
    add_call(db, "CA1", hartford(2026, 12, 1, 9, 15), "311", "en", "case_created")
    add_call(db, "CA2", hartford(2026, 12, 1, 9, 40), "ten-digit", "es", "abandoned_intake")
    add_call(db, "CA3", hartford(2026, 12, 1, 13, 5), "311", "es", "transfer:department:dpw")
    add_call(db, "CA4", hartford(2026, 12, 1, 20, 30), "311", "en", "goodbye:status_bye", checked=True)
    add_call(db, "CA5", hartford(2026, 11, 28, 10, 0), "ten-digit", "en", "representative:en")
    add_call(db, "CA6", hartford(2026, 11, 30, 11, 0), "311", "en", "caller_hung_up")
    add_call(db, "CA0", hartford(2026, 11, 20, 10, 0), "311", "en", "case_created")  # before the period
    schedule = app.extensions["ivr"].settings.schedule
    made = []
    for service_type, at in (("pothole", hartford(2026, 11, 27, 10, 0)), ("pothole", hartford(2026, 11, 30, 9, 0)),
                             ("pothole", hartford(2026, 11, 16, 9, 0))):
        case, _ = cases.create_case(db, NewCase(service_type=service_type, channel="phone", language="en",
                                                location="1 Main St", description="hole"),
                                    schedule, "test", now=at)
        made.append(case)
    # The first closes before its expected date (five business days): the SLA met.
    cases.update_status(db, made[0], "closed", "filled", True, "test", now=hartford(2026, 12, 2, 10, 0))
    db.commit()
    return made


def test_the_dashboard_figures_match_the_calls_and_cases(app, staff_client, week):
    page = staff_client("supervisor").get(DASHBOARD + PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'id="total-calls">6<', html)
    assert re.search(r'id="after-hours">33%<', html)  # 2 of 6: Saturday 10:00 and Tuesday 20:30
    assert re.search(r'id="reports-completed">1<', html) and re.search(r'id="reports-abandoned">1<', html)
    tables = Tables(html).tables
    by_hour = rows_by_label(tables["table-hour_route"])
    assert tables["table-hour_route"][0] == ["Hour", "311", "Ten-digit number", "Total"]
    assert by_hour["09"] == ["1", "1", "2"] and by_hour["20"] == ["1", "0", "1"] and by_hour["03"] == ["0", "0", "0"]
    by_language = rows_by_label(tables["table-hour_language"])
    assert tables["table-hour_language"][0] == ["Hour", "English", "Spanish", "Total"]
    assert by_language["13"] == ["0", "1", "1"]
    by_day = rows_by_label(tables["table-day_route"])
    assert len(by_day) == 7 and by_day["Tue Dec 1"] == ["3", "1", "4"] and by_day["Sat Nov 28"] == ["0", "1", "1"]
    assert rows_by_label(tables["table-outcomes"]) == {
        "Case created": ["1"], "Status checked": ["1"], "Transferred to a department": ["1"],
        "Put through to a representative": ["1"], "Abandoned mid-report": ["1"], "Ended otherwise": ["1"]}
    assert rows_by_label(tables["table-reports"]) == {"Completed (case created)": ["1"], "Abandoned mid-report": ["1"]}
    departments = rows_by_label(tables["table-departments"])
    # Opened, closed, met, missed, not yet due, compliance, open now, overdue now (the clock: Tue Dec 1, 10:00).
    assert departments["Public Works"] == ["2", "1", "1", "0", "1", "100%", "2", "1"]
    assert departments["Parks and Recreation"][:2] == ["0", "0"]


def test_each_chart_is_a_script_free_svg_of_the_table_beside_it(app, staff_client, week):
    html = staff_client("supervisor").get(DASHBOARD + PERIOD).get_data(as_text=True)
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="Bar chart: ([^"]+)"', html)
    assert len(images) == 9
    for encoded, alt in images:
        svg = b64decode(encoded).decode()
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert "<script" not in svg
        assert alt.split(".")[0] in svg  # the chart's title is drawn in it
    outcomes_svg = b64decode(images[4][0]).decode()
    assert "Abandoned mid-report" in outcomes_svg


def test_a_period_without_calls_or_cases_says_so(staff_client):
    html = staff_client("supervisor").get(DASHBOARD + PERIOD).get_data(as_text=True)
    assert re.search(r'id="total-calls">0<', html) and re.search(r'id="after-hours">–<', html)
    svgs = [b64decode(encoded).decode() for encoded in re.findall(r'base64,([^"]+)"', html)]
    assert len(svgs) == 9 and "No data in this period" in svgs[0]


def test_the_default_period_is_the_last_seven_days_and_a_bad_one_is_a_clear_400(staff_client, week):
    supervisor = staff_client("supervisor")
    html = supervisor.get(DASHBOARD).get_data(as_text=True)
    assert 'value="2026-11-25"' in html and 'value="2026-12-01"' in html
    assert re.search(r'id="total-calls">6<', html)  # Nov 25 to Dec 1 holds every call of the week but CA0
    for query, message in (("?from=yesterday", "from must be a date written YYYY-MM-DD"),
                           ("?from=2026-12-02&to=2026-12-01", "must end on or after"),
                           ("?from=2026-01-01&to=2026-12-01", "at most 92 days")):
        answer = supervisor.get(DASHBOARD + query)
        assert answer.status_code == 400 and message in answer.get_data(as_text=True)
        assert "<h1>400 Bad Request</h1>" in answer.get_data(as_text=True)


def test_only_supervisors_open_the_supervisor_pages(staff_client):
    for role, department in (("operator", None), ("department", "dpw")):
        client = staff_client(role, department)
        for url in (DASHBOARD, "/staff/supervisor/line", "/staff/supervisor/accounts", "/staff/supervisor/audit"):
            assert client.get(url).status_code == 403, (role, url)


# ---- the closure switch and its announcements ------------------------------------------------------------

def post(client, url: str, data: dict | None = None, page: str = "/staff/supervisor/line"):
    return client.post(url, data={**(data or {}), "csrf_token": form_token(client, page)})


def test_the_closure_switch_has_the_cli_effect_on_callers_and_is_audited(app, db, staff_client, phone):
    supervisor = staff_client("supervisor")
    assert "Regular hours" in supervisor.get("/staff/supervisor/line").get_data(as_text=True)
    answer = post(supervisor, "/staff/supervisor/line/closure",
                  {"message_en": "City offices are closed for snow.",
                   "message_es": "Las oficinas están cerradas por la nieve."})
    assert answer.status_code == 302
    page = supervisor.get("/staff/supervisor/line").get_data(as_text=True)
    assert "Closed for an emergency" in page and "City offices are closed for snow." in page

    # Callers hear it at once, although the clock says 311 is open: in English ...
    call = phone()
    call.press("1")
    assert call.heard()[-2].startswith("311 is closed now because of an emergency closure. "
                                       "City offices are closed for snow.")
    # ... and in Spanish.
    call = phone()
    call.press("2")
    assert any("Las oficinas están cerradas por la nieve." in line for line in call.heard())

    # Changing the announcement keeps the line closed.
    post(supervisor, "/staff/supervisor/line/closure", {"message_en": "Closed: ice.", "message_es": "Cerrado: hielo."})
    call = phone()
    call.press("1")
    assert "Closed: ice." in call.heard()[-2]

    post(supervisor, "/staff/supervisor/line/reopen")
    call = phone()
    call.press("1")
    assert not any("emergency closure" in line for line in call.heard())

    db.expire_all()
    closures = db.scalars(select(Closure).order_by(Closure.id)).all()
    assert [(c.message_en, c.ended_at is not None) for c in closures] == [
        ("City offices are closed for snow.", True), ("Closed: ice.", True)]
    actor = closures[0].started_by
    assert actor.startswith("staff:supervisor")
    audit = [(e.actor, e.action) for e in db.scalars(select(StaffAuditEvent).order_by(StaffAuditEvent.id))]
    assert [action for who, action in audit if who == actor] == [
        "login", "closure_started", "announcement_changed", "closure_ended"]


def test_an_announcement_in_one_language_only_is_refused(db, staff_client):
    supervisor = staff_client("supervisor")
    answer = post(supervisor, "/staff/supervisor/line/closure", {"message_en": "Closed for snow.", "message_es": ""})
    assert answer.status_code == 302
    assert "in both English and Spanish" in supervisor.get("/staff/supervisor/line").get_data(as_text=True)
    assert db.scalars(select(Closure)).all() == []


def test_a_closure_without_announcement_is_allowed(db, staff_client):
    supervisor = staff_client("supervisor")
    post(supervisor, "/staff/supervisor/line/closure", {"message_en": "", "message_es": ""})
    db.expire_all()
    [closure] = db.scalars(select(Closure)).all()
    assert closure.message_en is None and closure.ended_at is None


# ---- the information menu's announcement ------------------------------------------------------------------

def heard_in_the_information_menu(phone, lang_key: str) -> str:
    call = phone()
    call.press(lang_key)
    call.press("3")
    call.press("6")  # current announcements
    return call.heard()[-2]


def test_a_supervisor_sets_and_clears_the_announcement_callers_hear_audited(db, staff_client, phone):
    supervisor = staff_client("supervisor")
    answer = post(supervisor, "/staff/supervisor/line/announcement",
                  {"announcement_en": "Bulky pickup is moved to Friday.",
                   "announcement_es": "La recogida de objetos grandes pasa al viernes."})
    assert answer.status_code == 302
    page = supervisor.get("/staff/supervisor/line").get_data(as_text=True)
    assert "Bulky pickup is moved to Friday." in page and "by staff:supervisor" in page
    assert heard_in_the_information_menu(phone, "1") == "Bulky pickup is moved to Friday."
    assert heard_in_the_information_menu(phone, "2") == "La recogida de objetos grandes pasa al viernes."

    post(supervisor, "/staff/supervisor/line/announcement/clear")
    assert heard_in_the_information_menu(phone, "2") == "No hay anuncios en este momento."
    db.expire_all()
    [row] = db.scalars(select(Announcement)).all()
    assert row.set_by.startswith("staff:supervisor") and row.cleared_by == row.set_by
    audit = [e.action for e in db.scalars(select(StaffAuditEvent).order_by(StaffAuditEvent.id))
             if e.target == "announcement"]
    assert audit == ["announcement_set", "announcement_cleared"]


def test_the_announcement_in_one_language_only_is_refused(db, staff_client):
    supervisor = staff_client("supervisor")
    post(supervisor, "/staff/supervisor/line/announcement", {"announcement_en": "Only English.", "announcement_es": ""})
    assert "both English and Spanish" in supervisor.get("/staff/supervisor/line").get_data(as_text=True)
    assert db.scalars(select(Announcement)).all() == []


@pytest.mark.parametrize(("role", "department"), [("department", "dpw"), ("operator", None)])
def test_only_supervisors_set_the_announcement(db, staff_client, role, department):
    client = staff_client(role, department)
    token = form_token(client, "/staff/")
    for url in ("/staff/supervisor/line/announcement", "/staff/supervisor/line/announcement/clear"):
        answer = client.post(url, data={"announcement_en": "Hi.", "announcement_es": "Hola.", "csrf_token": token})
        assert answer.status_code == 403
    assert db.scalars(select(Announcement)).all() == []


def test_setting_the_announcement_needs_the_csrf_token(db, staff_client):
    supervisor = staff_client("supervisor")
    answer = supervisor.post("/staff/supervisor/line/announcement",
                             data={"announcement_en": "Hi.", "announcement_es": "Hola."})
    assert answer.status_code == 400
    assert db.scalars(select(Announcement)).all() == []


# ---- accounts and the audit log --------------------------------------------------------------------------

ACCOUNTS = "/staff/supervisor/accounts"


def test_a_supervisor_adds_disables_resets_and_unlocks_accounts(app, db, staff_client, clock):
    supervisor = staff_client("supervisor")
    answer = post(supervisor, ACCOUNTS, {"username": "dora", "role": "department", "department": "dpw",
                                         "password": STAFF_PASSWORD}, page=ACCOUNTS)
    assert answer.status_code == 302
    assert "Added dora." in supervisor.get(ACCOUNTS).get_data(as_text=True)
    assert accounts.find(db, "dora").department.code == "dpw"
    assert sign_in(app.test_client(), "dora").status_code == 302

    post(supervisor, f"{ACCOUNTS}/dora/disable", page=ACCOUNTS)
    assert sign_in(app.test_client(), "dora").status_code == 401
    post(supervisor, f"{ACCOUNTS}/dora/enable", page=ACCOUNTS)

    for _ in range(app.extensions["ivr"].settings.staff.lockout_after_failures):
        sign_in(app.test_client(), "dora", "wrong-password-123")
    assert "locked" in supervisor.get(ACCOUNTS).get_data(as_text=True)
    post(supervisor, f"{ACCOUNTS}/dora/unlock", page=ACCOUNTS)
    assert sign_in(app.test_client(), "dora").status_code == 302

    post(supervisor, f"{ACCOUNTS}/dora/reset", page=ACCOUNTS)
    listing = supervisor.get(ACCOUNTS).get_data(as_text=True)
    shown = re.search(r"given a new password, shown only now: (\S+)\.<", listing)
    assert shown and sign_in(app.test_client(), "dora", shown.group(1)).status_code == 302
    assert sign_in(app.test_client(), "dora").status_code == 401

    db.expire_all()
    who = db.scalars(select(StaffAuditEvent).where(StaffAuditEvent.target == "dora")
                     .order_by(StaffAuditEvent.id)).all()
    by_supervisor = [e.action for e in who if e.actor.startswith("staff:supervisor")]
    assert by_supervisor == ["account_created", "account_disabled", "account_enabled", "account_unlocked",
                             "password_reset"]

    log = supervisor.get("/staff/supervisor/audit").get_data(as_text=True)
    rows = Tables(log).tables["audit"]
    assert rows[1][1:4] == ["anonymous", "login_failed", "dora"]  # newest first: the old password, refused
    assert any(row[2] == "account_locked" and row[3] == "dora" for row in rows)


def test_bad_account_forms_say_why(staff_client):
    supervisor = staff_client("supervisor")
    post(supervisor, ACCOUNTS, {"username": "x y", "role": "operator", "password": STAFF_PASSWORD}, page=ACCOUNTS)
    assert "Not added: a username is 2 to 60" in supervisor.get(ACCOUNTS).get_data(as_text=True)
    post(supervisor, ACCOUNTS, {"username": "eve", "role": "department", "password": STAFF_PASSWORD}, page=ACCOUNTS)
    assert "department staff need a department" in supervisor.get(ACCOUNTS).get_data(as_text=True)
    post(supervisor, ACCOUNTS, {"username": "eve", "role": "operator", "password": "short"}, page=ACCOUNTS)
    assert "at least 12 characters" in supervisor.get(ACCOUNTS).get_data(as_text=True)
    assert post(supervisor, f"{ACCOUNTS}/nobody/disable", page=ACCOUNTS).status_code == 404
    assert post(supervisor, f"{ACCOUNTS}/eve/explode", page=ACCOUNTS).status_code == 404


def test_a_supervisor_cannot_disable_themselves(db, staff_client):
    supervisor = staff_client("supervisor")
    me = re.search(r"Signed in as <strong>([^<]+)</strong>", supervisor.get(ACCOUNTS).get_data(as_text=True))[1]
    post(supervisor, f"{ACCOUNTS}/{me}/disable", page=ACCOUNTS)
    assert "cannot disable your own account" in supervisor.get(ACCOUNTS).get_data(as_text=True)
    assert accounts.find(db, me).active


def test_the_audit_log_pages(app, db, staff_client, clock):
    supervisor = staff_client("supervisor")
    for index in range(55):
        accounts.audit(db, "cli:test", "account_created", clock() + timedelta(seconds=index), target=f"u{index}")
    db.commit()
    first = Tables(supervisor.get("/staff/supervisor/audit").get_data(as_text=True)).tables["audit"]
    assert len(first) == 51 and first[1][3] == "u54"
    second = supervisor.get("/staff/supervisor/audit?page=2").get_data(as_text=True)
    assert "Newer" in second and "Older" not in second
    assert supervisor.get("/staff/supervisor/audit?page=0").status_code == 400
