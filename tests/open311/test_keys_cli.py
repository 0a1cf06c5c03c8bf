"""`ivr open311 key add|revoke|list`: keys shown once, stored as SHA-256, named in the audit trail."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ivr.cli import main
from ivr.models import ApiKey
from ivr.open311 import keys


@pytest.fixture
def ivr(app, database_url, monkeypatch):
    """Run `ivr ...` against the test database (the app fixture empties it afterwards)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_add_prints_the_key_once_and_stores_only_its_hash(ivr, db):
    result = ivr("open311", "key", "add", "City website", "--by", "alice")

    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    assert token.startswith("h311_") and len(token) >= 45
    row = db.scalars(select(ApiKey)).one()
    assert (row.name, row.created_by, row.revoked_at) == ("City website", "alice", None)
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(row))
    assert keys.active_key(db, token).id == row.id


def test_list_shows_names_and_states_never_keys(ivr):
    token = ivr("open311", "key", "add", "FixMyStreet", "--by", "alice").output.splitlines()[-1]
    ivr("open311", "key", "add", "Partner CRM", "--by", "alice")
    ivr("open311", "key", "revoke", "Partner CRM", "--by", "bob")

    listed = ivr("open311", "key", "list")

    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].startswith("FixMyStreet") and lines[0].endswith("active")
    assert lines[1].startswith("Partner CRM") and "revoked" in lines[1] and "by bob" in lines[1]
    assert token not in listed.output and keys.hash_key(token) not in listed.output


def test_an_empty_list_says_so(ivr):
    assert ivr("open311", "key", "list").output.strip() == "no Open311 API keys"


@pytest.mark.parametrize(("steps", "message"), [
    ([("add", "A"), ("add", "A")], "a key named 'A' already exists; choose another name"),
    ([("add", "A"), ("revoke", "A"), ("add", "A")], "a key named 'A' already exists; choose another name"),
    ([("revoke", "nobody")], "no key named 'nobody'"),
    ([("add", "A"), ("revoke", "A"), ("revoke", "A")], "the key 'A' was already revoked"),
    ([("add", " ")], "give the key a name of 1 to 80 characters"),
    ([("add", "x" * 81)], "give the key a name of 1 to 80 characters"),
])
def test_mistakes_are_refused_with_a_reason(ivr, steps, message):
    *before, (verb, name) = steps
    for earlier_verb, earlier_name in before:
        assert ivr("open311", "key", earlier_verb, earlier_name).exit_code == 0

    result = ivr("open311", "key", verb, name)

    assert result.exit_code == 1 and f"Error: {message}" in result.output


def test_a_revoked_or_unknown_key_is_not_active(db):
    token = keys.issue_key(db, "App", "alice")
    assert keys.active_key(db, token) is not None
    assert keys.active_key(db, token + "x") is None and keys.active_key(db, "") is None

    keys.revoke_key(db, "App", "bob")

    assert keys.active_key(db, token) is None
    db.rollback()
