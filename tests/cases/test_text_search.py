"""Finding cases by their words through the text indexes (migration 0007): the same answers on SQLite and
PostgreSQL (this file runs on both), accents and case aside, and no search text that makes the database fail."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from ivr import cases
from ivr.cases import queries, text_search
from ivr.cases.queries import QueueFilter, SearchError
from ivr.models import Case

HARTFORD = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=HARTFORD)


@pytest.fixture
def found(make_case, db):
    """found(text, **filters) -> the descriptions of every case (any department, any status) matching text."""

    def search(text: str, **filters) -> list[str]:
        page = queries.queue_page(db, QueueFilter(department_id=None, status="all", text=text, **filters), NOW, 50)
        return sorted(case.description for case in page.cases)

    return search


@pytest.fixture
def city(make_case, db):
    """Cases in English and Spanish, on streets with accents, numbers and punctuation."""
    texts = {
        "farmington": ("Deep pothole near the bus stop", "1450 Farmington Avenue"),
        "martin": ("Hay un bache muy grande en la esquina", "Calle Martín 12"),
        "pena": ("Árbol caído sobre la acera", "Peña Street, apt. 3"),
        "wethersfield": ("Streetlight out, it's dark", "125 Wethersfield Ave."),
        "quote": ('Sign says "NEAR" AND a star * here', "O'Brien Road"),
        "main": ("Missed trash pickup", "12 Main St."),
    }
    made = {key: make_case(description=description, location=location)
            for key, (description, location) in texts.items()}
    cases.update_status(db, made["main"], "closed", "Picked up", public=True, actor="crew",
                        now=datetime(2026, 12, 2, 9, 0, tzinfo=HARTFORD))
    db.commit()
    return {key: texts[key][0] for key in texts}


def test_words_are_found_anywhere_in_description_or_location(city, found):
    assert found("pothole") == [city["farmington"]]
    assert found("bus farmington") == [city["farmington"]]  # one word in each field
    assert found("trash") == [city["main"]]  # closed cases too, with status "all"
    assert found("pothole bache") == []  # every word must be there


def test_partial_street_names_are_the_beginnings_of_words(city, found):
    assert found("Farm") == [city["farmington"]]
    assert found("wethers ave") == [city["wethersfield"]]
    assert found("ington") == []  # a beginning, not any part of a word


def test_accents_and_case_do_not_matter_either_way(city, found):
    assert found("martin") == [city["martin"]]
    assert found("MARTÍN") == [city["martin"]]
    assert found("pena") == [city["pena"]]
    assert found("Peña") == [city["pena"]]
    assert found("arbol caido") == [city["pena"]]
    assert found("ACERA") == [city["pena"]]
    assert found("Marti\u0301n") == [city["martin"]]  # typed with a combining accent


def test_short_words_must_be_whole(city, found):
    assert found("12") == sorted([city["martin"], city["main"]])  # "12 Main", "Martín 12"; not "125" or "1450"
    assert found("12 main") == [city["main"]]
    assert found("st") == [city["main"]]  # "St.", not "Street" or "stop"


# Operators of FTS5 and tsquery, SQL, quotes and stray bytes: taken as words (or ignored), never as syntax.
FINDS_THE_SIGN = ['"SIGN"', "NEAR(sign star)", "sign AND star", "star *", "-sign", "sign:*", "sign & !star",
                  "sign | star", "sign <-> star", "^sign", "(sign", "sign%", "sign\x00", "🚧 sign", "sign\\"]
FINDS_NOTHING = ["NOT sign", "location: sign", "{location}: sign", "sign OR nothing", "'; DROP TABLE cases; --"]
REFUSED = ['"', "'", "*", "\\", "%", "_", "--", "\x00"]


@pytest.mark.parametrize("hostile", FINDS_THE_SIGN)
def test_operators_and_punctuation_are_not_syntax(city, found, hostile):
    assert found(hostile) == [city["quote"]]


@pytest.mark.parametrize("hostile", FINDS_NOTHING)
def test_operator_words_are_plain_words(city, found, hostile):
    assert found(hostile) == []


@pytest.mark.parametrize("hostile", REFUSED)
def test_punctuation_only_is_refused_with_a_reason(found, hostile):
    with pytest.raises(SearchError, match="letters and digits"):
        found(hostile)


def test_apostrophes_split_words_the_same_on_both_databases(city, found):
    assert found("o'brien") == found("O’Brien") == found("o brien") == [city["quote"]]


def test_too_many_words_are_refused(db):
    with pytest.raises(SearchError, match="at most 8 words"):
        queries.queue_page(db, QueueFilter(department_id=None, text="a b c d e f g h i"), NOW, 10)


def test_the_index_follows_changes_and_deletions(make_case, db, found):
    case = make_case(description="broken bench", location="Bushnell Park")
    assert found("bench") == ["broken bench"]
    db.execute(update(Case).where(Case.id == case.id).values(description="fixed swing"))
    db.commit()
    assert found("bench") == []
    assert found("swing bushnell") == ["fixed swing"]
    db.execute(update(Case).where(Case.id == case.id).values(status="in_progress"))  # not the words: untouched
    db.commit()
    assert found("swing") == ["fixed swing"]
    db.execute(delete(Case).where(Case.id == case.id))
    db.commit()
    assert found("swing") == []


def test_a_case_number_is_found_as_text_too(city, db, found):
    number = db.scalars(select(Case.number).where(Case.description == city["pena"])).one()
    assert found(number) == [city["pena"]]


def test_words_keep_letters_and_digits_only():
    assert text_search.words('Calle "Martín" 12-B, O\'Brien & co*') == ["calle", "martín", "12", "b", "o", "brien",
                                                                         "co"]
    assert text_search.words("elm ELM Elm") == ["elm"]
