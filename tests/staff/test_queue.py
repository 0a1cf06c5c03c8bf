"""The department's queue: its cases with filters and pages, its open, overdue and SLA figures, and who sees it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr import cases
from tests.conftest import sign_in

HARTFORD = ZoneInfo("America/New_York")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HARTFORD)


@pytest.fixture
def client_for(app, staff_account):
    def make(role: str, department: str | None = None):
        username, password = staff_account(role, department)
        client = app.test_client()
        assert sign_in(client, username, password).status_code == 302
        return client

    return make


@pytest.fixture
def works(make_case, db, clock):
    """Public Works: an overdue pothole, a closed-late one, a fresh trash case; and a Parks case. Now: Dec 10."""
    made = {
        "overdue": make_case("pothole", local(2026, 12, 1, 10), location="1 Elm Street"),  # expected Dec 7
        "closed": make_case("pothole", local(2026, 12, 1, 11), location="2 Elm Street"),
        "fresh": make_case("missed_trash", local(2026, 12, 9, 10), description="bins left on Oak Street"),
        "parks": make_case("tree", local(2026, 12, 2, 10), location="Bushnell Park"),
    }
    cases.update_status(db, made["closed"], "closed", None, public=False, actor="crew", now=local(2026, 12, 9, 9))
    db.commit()
    clock.set(2026, 12, 10, 12, 0)
    return made


def listed(html: str) -> list[str]:
    """Case numbers in the queue's table, in order."""
    table = html.split('id="queue-cases"', 1)[1].split("</table>", 1)[0]
    return [a + b for a, b in re.findall(r'>(\d{4}) (\d{4})</a>', table)]


def figure(html: str, name: str) -> str:
    return re.search(rf'id="{name}">([^<]*)<', html).group(1)


def test_a_department_sees_its_open_cases_and_its_figures(works, client_for):
    client = client_for("department", "dpw")
    assert client.get("/staff/queue/").headers["Location"] == "/staff/queue/dpw"
    page = client.get("/staff/queue/dpw")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert listed(html) == [works["fresh"].number, works["overdue"].number]
    assert (figure(html, "open-count"), figure(html, "overdue-count")) == ("2", "1")
    # Judged so far: the closed-late pothole (missed) and the overdue one (missed); the trash case is not due.
    assert figure(html, "sla-rate") == "0%"
    assert "Overdue" in html


def test_filters_on_the_page(works, client_for):
    client = client_for("department", "dpw")

    def numbers(query: str) -> list[str]:
        answer = client.get(f"/staff/queue/dpw?{query}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return listed(answer.get_data(as_text=True))

    assert numbers("overdue=1") == [works["overdue"].number]
    assert numbers("status=closed") == [works["closed"].number]
    assert numbers("type=missed_trash") == [works["fresh"].number]
    assert numbers("status=all&from=2026-12-01&to=2026-12-01") == [works["closed"].number, works["overdue"].number]
    assert numbers("q=oak") == [works["fresh"].number]
    assert numbers("sort=oldest") == [works["overdue"].number, works["fresh"].number]


def test_paging_by_the_next_link(make_case, client_for, monkeypatch):
    from ivr.staff import queue

    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    made = [make_case("pothole", local(2026, 12, 1, 9) + timedelta(hours=i)) for i in range(5)]
    client = client_for("department", "dpw")
    seen, url = [], "/staff/queue/dpw?sort=oldest"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += listed(html)
        found = re.search(r'href="([^"]+)" id="next-page"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [case.number for case in made]


@pytest.mark.parametrize(("query", "message"), [
    ("from=yesterday", "YYYY-MM-DD"), ("type=unicorns", "no service type"), ("status=lost", "unknown status"),
    ("after=garbage", "damaged"), ("from=2026-12-09&to=2026-12-01", "before"),
])
def test_bad_filters_are_a_400_with_a_reason(works, client_for, query, message):
    answer = client_for("department", "dpw").get(f"/staff/queue/dpw?{query}")
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)


def test_a_department_cannot_open_another_departments_queue(works, client_for):
    client = client_for("department", "parks")
    for url in ("/staff/queue/dpw", "/staff/queue/all", "/staff/queue/dpw?status=all"):
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert works["overdue"].number[:4] + " " not in answer.get_data(as_text=True)
    assert listed(client.get("/staff/queue/parks").get_data(as_text=True)) == [works["parks"].number]


def test_operators_see_every_department(works, client_for):
    client = client_for("operator")
    overview = client.get("/staff/queue/").get_data(as_text=True)
    assert "Public Works" in overview and "Parks" in overview
    row = overview.split("Public Works</a>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'class="num">(\d+)<', row)[:2] == ["2", "1"]
    every = listed(client.get("/staff/queue/all").get_data(as_text=True))
    assert set(every) == {works[k].number for k in ("overdue", "fresh", "parks")}
    assert client.get("/staff/queue/nowhere").status_code == 404
