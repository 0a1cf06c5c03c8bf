"""The supervisor's pages in chromium, against the Procfile's gunicorn: figures of calls placed over HTTP, the
closure switch heard by the next caller, accounts by keyboard only, and axe-core on every page at two sizes."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.models import Call
from ivr.simulator import HttpTransport, Simulator
from tests.conftest import AUTH_TOKEN

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}  # a phone held upright
SUPERVISOR_PAGES = ("/staff/", "/staff/supervisor/", "/staff/supervisor/line", "/staff/supervisor/accounts",
                    "/staff/supervisor/audit")


def dial(app, live_server, to: str = "311", from_: str = "+18605550177"):
    """A simulated call over real HTTP to the served app."""
    numbers = app.extensions["ivr"].settings.numbers
    number = {"311": numbers.three_one_one, "ten-digit": numbers.ten_digit}[to]
    return Simulator(HttpTransport(live_server), AUTH_TOKEN, public_base_url=live_server, to=number,
                     from_=from_).dial()


def table(page, table_id: str) -> dict[str, list[str]]:
    """A table of the page by id: the row header's text -> the cells' texts."""
    rows = page.locator(f"#{table_id} tbody tr")
    found = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        found[row.locator("th").inner_text().strip()] = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    return found


def test_the_dashboard_figures_match_the_calls_placed_in_the_test(app, db, live_server, signed_in_page, screenshot):
    # An English caller on 311 starts a pothole report and hangs up; a Spanish caller on the ten-digit number
    # hangs up at the main menu.
    report = dial(app, live_server, "311")
    report.press("1")
    report.press("1")
    report.press("2")
    report.hangup()
    spanish = dial(app, live_server, "ten-digit", from_="+18605550178")
    spanish.press("2")
    spanish.hangup()

    rows = db.scalars(select(Call).order_by(Call.id)).all()
    assert [(r.route, r.language, r.outcome) for r in rows] == [("311", "en", "abandoned_intake"),
                                                                 ("ten-digit", "es", "caller_hung_up")]
    settings = app.extensions["ivr"].settings
    zone = ZoneInfo(settings.hours.timezone)
    local = [row.started_at.astimezone(zone) for row in rows]
    after_hours = sum(not settings.schedule.is_open(row.started_at) for row in rows)

    page = signed_in_page("supervisor")
    page.goto("/staff/supervisor/")
    page.get_by_label("From").fill(local[0].date().isoformat())
    page.get_by_label("To (inclusive)").fill(local[-1].date().isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**from=*")
    summaries = page.locator("details > summary")
    for index in range(summaries.count()):  # the long tables fold away under their charts: open them
        summaries.nth(index).click()
    assert page.locator("#total-calls").inner_text() == "2"
    assert page.locator("#after-hours").inner_text() == f"{round(100 * after_hours / 2)}%"
    assert page.locator("#reports-abandoned").inner_text() == "1"
    assert page.locator("#reports-completed").inner_text() == "0"
    by_hour = table(page, "table-hour_route")
    expected = {}
    for when, route in zip(local, ("311", "Ten-digit number"), strict=True):
        expected.setdefault(f"{when.hour:02d}", {"311": 0, "Ten-digit number": 0})[route] += 1
    for hour, counts in expected.items():
        assert by_hour[hour] == [str(counts["311"]), str(counts["Ten-digit number"]), str(sum(counts.values()))]
    assert sum(int(cells[-1]) for cells in by_hour.values()) == 2
    by_language = table(page, "table-day_language")
    assert [cells for cells in by_language.values() if cells != ["0", "0", "0"]] in (
        [["1", "1", "2"]], [["1", "0", "1"], ["0", "1", "1"]])  # both calls on one day, or across midnight
    assert table(page, "table-outcomes")["Abandoned mid-report"] == ["1"]
    assert table(page, "table-outcomes")["Ended otherwise"] == ["1"]
    # The charts are images the browser drew (a broken SVG would have no size).
    for index in range(page.locator("section.chart img").count()):
        assert page.locator("section.chart img").nth(index).evaluate("img => img.naturalWidth") > 0
    screenshot(page, "dashboard")
    page.set_viewport_size(PHONE)
    screenshot(page, "dashboard-phone")


def hears(app, live_server, text: str) -> bool:
    """Whether a caller who chooses English hears `text`."""
    call = dial(app, live_server)
    call.press("1")
    heard = any(text in line for line in call.heard())
    call.hangup()
    return heard


def until(condition, seconds: float) -> bool:
    """Whether `condition()` comes true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def test_the_closure_switch_closes_the_line_for_the_next_caller(app, live_server, signed_in_page, screenshot):
    page = signed_in_page("supervisor")
    page.goto("/staff/supervisor/line")
    assert page.locator("#line-state").inner_text() == "Regular hours"
    page.get_by_label("Announcement in English").fill("City Hall is closed for snow today.")
    page.get_by_label("Announcement in Spanish").fill("La alcaldía está cerrada hoy por la nieve.")
    with page.expect_navigation():
        page.get_by_role("button", name="Close 311 now").click()
    assert page.locator("#line-state").inner_text() == "Closed for an emergency"
    screenshot(page, "line-closed")
    # Two gunicorn workers: the other one trusts its last reading for config/database.toml's seconds.
    wait = app.extensions["ivr"].settings.database.closure_cache_seconds + 2
    assert until(lambda: hears(app, live_server, "City Hall is closed for snow today."), wait)
    with page.expect_navigation():
        page.get_by_role("button", name="End the closure: regular hours again").click()
    assert page.locator("#line-state").inner_text() == "Regular hours"
    assert until(lambda: not hears(app, live_server, "emergency closure"), wait)


def announcement_heard(app, live_server, lang_key: str) -> str:
    """What a caller hears at the information menu's "current announcements", in the language of lang_key."""
    call = dial(app, live_server)
    call.press(lang_key)
    call.press("3")
    call.press("6")
    heard = call.heard()[-2]
    call.hangup()
    return heard


def test_a_supervisor_sets_the_announcement_and_callers_hear_it_in_their_language(app, live_server,
                                                                                  signed_in_page, screenshot):
    english, spanish = "Leaf pickup starts Monday.", "La recogida de hojas empieza el lunes."
    page = signed_in_page("supervisor")
    page.goto("/staff/supervisor/line")
    page.get_by_label("Information menu message in English").fill(english)
    page.get_by_label("Information menu message in Spanish").fill(spanish)
    with page.expect_navigation():
        page.get_by_role("button", name="Save the information announcement").click()
    assert "callers in the information menu hear it" in page.locator("main").inner_text()
    assert "by staff:supervisor" in page.locator("#announcement-state").inner_text()
    screenshot(page, "line-announcement")
    wait = app.extensions["ivr"].settings.database.closure_cache_seconds + 2  # the other worker's cached reading
    assert until(lambda: announcement_heard(app, live_server, "2") == spanish, wait)
    assert until(lambda: announcement_heard(app, live_server, "1") == english, wait)
    with page.expect_navigation():
        page.get_by_role("button", name="Clear the information announcement").click()
    assert until(lambda: announcement_heard(app, live_server, "1") == "There are no announcements right now.", wait)


def test_a_supervisor_adds_an_account_with_the_keyboard_alone(page, signed_in_page, screenshot):
    signed_in_page("supervisor")
    page.goto("/staff/supervisor/accounts")
    page.get_by_label("Username").focus()
    page.keyboard.type("rosa")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the hint-less role select (operator first) ...
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")  # ... and back to choose "department"
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("a-long-enough-password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Added rosa.").is_visible()
    row = page.locator("#accounts tbody tr", has=page.locator("th", has_text="rosa"))
    assert row.locator("td").nth(0).inner_text() == "department"
    screenshot(page, "accounts")


def test_the_skip_link_is_the_first_stop_and_lands_on_the_content(signed_in_page):
    page = signed_in_page("supervisor")
    page.goto("/staff/supervisor/line")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_every_supervisor_page_passes_axe_and_fits_the_screen(page, signed_in_page, accessibility, viewport):
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.set_viewport_size(viewport)
    page.goto("/staff/login")
    assert accessibility(page) == []
    signed_in_page("supervisor")
    for url in SUPERVISOR_PAGES:
        page.goto(url)
        assert accessibility(page) == [], (url, page.content()[:600])
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {viewport['width']}px"
    assert refused == []  # the policy refused nothing the pages needed
