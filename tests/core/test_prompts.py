"""The prompt catalog (ivr/core/prompts.py): English and Spanish always agree, checked at load time."""

import re
import string
import textwrap

import pytest

from ivr.core.prompts import LANGUAGES, Catalog, PromptError, Voice, load_catalog, placeholders
from ivr.settings import PROJECT_ROOT

EN = """
voice: Polly.Joanna-Neural
language: en-US
prompts:
  hello: Hello.
  hours: >-
    We are open
    {hours}.
  wait: You are number {position} in line.
"""
ES = """
voice: Polly.Lupe-Neural
language: es-US
prompts:
  hello: Hola.
  hours: Abrimos {hours}.
  wait: Usted es el número {position} en la fila.
"""


def write(tmp_path, en: str = EN, es: str = ES):
    """A prompts directory with the two files."""
    (tmp_path / "en.yaml").write_text(textwrap.dedent(en))
    (tmp_path / "es.yaml").write_text(textwrap.dedent(es))
    return tmp_path


def error(tmp_path, en: str = EN, es: str = ES) -> str:
    """The PromptError message for a pair of files."""
    with pytest.raises(PromptError) as caught:
        load_catalog(write(tmp_path, en, es))
    return str(caught.value)


def test_a_good_pair_loads(tmp_path):
    catalog = load_catalog(write(tmp_path))
    assert catalog.voice("en") == Voice("Polly.Joanna-Neural", "en-US")
    assert catalog.voice("es") == Voice("Polly.Lupe-Neural", "es-US")
    assert catalog.text("en", "hours", hours="9 to 5") == "We are open 9 to 5."  # folded lines joined
    assert catalog.text("es", "wait", position=2) == "Usted es el número 2 en la fila."
    assert catalog.has("hello") and not catalog.has("goodbye")
    assert placeholders(catalog.texts["en"]["wait"]) == {"position"}


def test_a_value_may_be_called_key(tmp_path):
    """Option labels say {key}: the name must not clash with Catalog.text's own arguments."""
    catalog = load_catalog(write(tmp_path, EN + "  label: For hours, press {key}.\n",
                                 ES + "  label: Para el horario, oprima {key}.\n"))
    assert catalog.text("en", "label", key="star") == "For hours, press star."


def test_a_missing_value_names_the_prompt(tmp_path):
    catalog = load_catalog(write(tmp_path))
    with pytest.raises(KeyError, match=r"prompt 'wait' needs a value for \{position\}"):
        catalog.text("en", "wait")


def test_prompt_missing_in_spanish(tmp_path):
    message = error(tmp_path, es=ES.replace("  hello: Hola.\n", ""))
    assert message == f"{tmp_path / 'es.yaml'}: missing prompt 'hello' (in en)"


def test_prompt_missing_in_english(tmp_path):
    message = error(tmp_path, es=ES + "  extra: Más.\n")
    assert message == f"{tmp_path / 'en.yaml'}: missing prompt 'extra' (in es)"


def test_placeholder_mismatch(tmp_path):
    message = error(tmp_path, es=ES.replace("{position}", "{posicion}"))
    assert message.startswith(f"{tmp_path / 'es.yaml'}: prompt 'wait' has placeholders ['posicion']")
    assert "en has ['position']" in message


def test_placeholder_missing_in_one_language(tmp_path):
    message = error(tmp_path, es=ES.replace("Abrimos {hours}.", "Abrimos pronto."))
    assert "es.yaml" in message and "'hours'" in message


@pytest.mark.parametrize(("change", "words"), [
    (lambda t: t.replace("voice: Polly.Lupe-Neural\n", ""), ["es.yaml", "missing 'voice'"]),
    (lambda t: t.replace("language: es-US\n", ""), ["es.yaml", "missing 'language'"]),
    (lambda t: t.replace("  hello: Hola.", "  hello: ''"), ["es.yaml", "prompt 'hello' must be non-empty text"]),
    (lambda t: t.replace("  hello: Hola.", "  hello: [Hola]"), ["es.yaml", "prompt 'hello' must be non-empty"]),
    (lambda t: t.replace("prompts:", "prompt:"), ["es.yaml", "expected a mapping"]),
    (lambda t: t + "  broken: [unclosed\n", ["es.yaml"]),
])
def test_malformed_spanish_file(tmp_path, change, words):
    message = error(tmp_path, es=change(ES))
    for word in words:
        assert word in message, message


def test_missing_language_file(tmp_path):
    (tmp_path / "en.yaml").write_text(textwrap.dedent(EN))
    with pytest.raises(PromptError, match=r"es\.yaml"):
        load_catalog(tmp_path)


# ---- the shipped prompts -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(PROJECT_ROOT / "prompts")


def test_shipped_prompts_are_in_both_languages(shipped):
    assert LANGUAGES == ("en", "es")
    assert set(shipped.texts["en"]) == set(shipped.texts["es"])
    for key in shipped.texts["en"]:
        assert placeholders(shipped.texts["en"][key]) == _fields(shipped.texts["es"][key]), key


def test_shipped_voices(shipped):
    assert shipped.voice("en") == Voice("Polly.Joanna-Neural", "en-US")
    assert shipped.voice("es") == Voice("Polly.Lupe-Neural", "es-US")


def test_shipped_spanish_is_translated(shipped):
    """A prompt with words in it is not the same in both languages (a copy-paste would slip through parity)."""
    same = [key for key, text in shipped.texts["en"].items()
            if text == shipped.texts["es"][key] and re.search(r"[a-z]", re.sub(r"\{\w*\}", "", text))]
    assert same == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_prompt_mentioning_an_emergency_gives_911(shipped, lang):
    for key, text in shipped.texts[lang].items():
        if key.startswith(("greeting.english", "greeting.spanish", "common.emergency", "closed.", "fallback.")):
            assert "9-1-1" in text, (lang, key)


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}
