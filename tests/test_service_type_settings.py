"""Service types as settings: the words callers say them with, how sentences name them, what is asked where,
and the one type unnamed problems are filed under, all from config/service_types.toml."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ivr import load_line
from ivr.settings import DEFAULT_CONFIG_DIR, PROJECT_ROOT, ConfigError, Secrets, load


@pytest.fixture
def config_dir(tmp_path):
    """A copy of the shipped config/ to change."""
    return Path(shutil.copytree(DEFAULT_CONFIG_DIR, tmp_path / "config"))


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


def test_the_shipped_types_are_said_with_their_articles_in_both_languages():
    settings = load(environ={})
    pothole = settings.service_type("pothole")
    assert (pothole.spoken("en"), pothole.spoken("es")) == ("a pothole", "un bache")
    assert "my trash wasn't picked up" in settings.service_type("missed_trash").words("en")
    assert "no pasaron por la basura" in settings.service_type("missed_trash").words("es")
    assert [st.code for st in settings.service_types if st.location_kind == "pickup"] == ["bulky_waste"]
    assert [st.code for st in settings.service_types if st.fallback] == ["noise_other"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("phrases_es = [", "frases_es = [", "service_type[0].frases_es: unknown key"),
    ('location_kind = "problem"', 'location_kind = "curb"', "location_kind: expected one of problem, pickup"),
    ("fallback = false", "", "service_type[0].fallback: missing key"),
    ('spoken_es = "un bache"\n', "", "service_type[1].spoken_es: missing key"),
])
def test_a_service_type_missing_or_misspelling_a_new_key_is_named(config_dir, old, new, message):
    edit(config_dir / "service_types.toml", old, new)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(config_dir, environ={})


def test_a_type_nobody_can_name_in_a_language_is_refused(config_dir):
    path = config_dir / "service_types.toml"
    text = path.read_text()
    graffiti = text.index('code = "graffiti"')
    start = text.index("keywords_es", graffiti)
    end = text.index("department", start)
    path.write_text(text[:start] + "keywords_es = []\nphrases_es = []\n" + text[end:])
    with pytest.raises(ConfigError, match=r"service_type\[7\]: give keywords_es or phrases_es"):
        load(config_dir, environ={})


@pytest.mark.parametrize(("old", "new", "count"), [("fallback = true", "fallback = false", 1),
                                                    ("fallback = false", "fallback = true", 1)])
def test_exactly_one_type_takes_the_problems_nobody_named(config_dir, old, new, count):
    edit(config_dir / "service_types.toml", old, new, count)
    settings = load(config_dir, environ={})
    with pytest.raises(ConfigError, match="exactly one service type needs fallback = true"):
        load_line(settings, PROJECT_ROOT / "flows", PROJECT_ROOT / "prompts", Secrets.from_env({}))
