"""The Procfile's gunicorn settings (gunicorn.conf.py), as the master process runs them."""

from __future__ import annotations

import logging
import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture
def conf(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    return runpy.run_path(str(CONF))


@pytest.fixture
def forget_secret_key(monkeypatch):
    """Unset SECRET_KEY for the test, and put back whatever was there after it (setenv records it; delenv of an
    unset variable would not, and the key the test makes would leak into later tests)."""
    monkeypatch.setenv("SECRET_KEY", "placeholder")
    return lambda: monkeypatch.delenv("SECRET_KEY")


@pytest.fixture
def server(caplog):
    caplog.set_level(logging.WARNING)
    return SimpleNamespace(log=logging.getLogger("gunicorn.error"))


def test_without_secret_key_the_master_makes_one_its_workers_inherit(conf, server, forget_secret_key, caplog):
    forget_secret_key()

    conf["on_starting"](server)

    key = os.environ["SECRET_KEY"]
    assert len(key) == 64 and key != "0" * 64
    assert "SECRET_KEY is not set" in caplog.text and key not in caplog.text


def test_a_set_secret_key_is_kept_and_nothing_is_said(conf, server, monkeypatch, caplog):
    monkeypatch.setenv("SECRET_KEY", "the-city's-own-key")

    conf["on_starting"](server)

    assert os.environ["SECRET_KEY"] == "the-city's-own-key"
    assert "SECRET_KEY" not in caplog.text


def test_each_start_without_a_key_makes_a_new_one(conf, server, forget_secret_key):
    keys = set()
    for _ in range(2):
        forget_secret_key()
        conf["on_starting"](server)
        keys.add(os.environ["SECRET_KEY"])
    assert len(keys) == 2
