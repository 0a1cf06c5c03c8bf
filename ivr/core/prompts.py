"""Prompt catalog: what callers hear, one YAML file per language, checked for parity at load time."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

LANGUAGES = ("en", "es")
OFFERS_FILE = "offers.yaml"  # "For help in <this language>, press {key}." in each language the greeting offers
OFFER_PROMPT = "greeting.offer"  # the key an offered language's one prompt is known by


class PromptError(ValueError):
    """A prompt file is malformed or the languages disagree; the message names file and key."""


@dataclass(frozen=True)
class Voice:
    """How one language is spoken and listened to."""

    voice: str
    language: str  # BCP-47 tag for <Say language> and <Gather language>


@dataclass(frozen=True)
class Catalog:
    """All prompts in every language."""

    texts: dict[str, dict[str, str]]
    voices: dict[str, Voice]
    # Languages the greeting also offers help in (ISO 639-1), in order: each has a voice and one prompt,
    # OFFER_PROMPT, and is never a call's language (the prompts above exist only in LANGUAGES).
    offers: tuple[str, ...] = ()

    def text(self, lang: str, key: str, /, **values: object) -> str:
        """Render prompt `key` in `lang`, filling {placeholders} from values (labels have a {key} of their own)."""
        template = self.texts[lang][key]
        return template.format_map(_Strict(values, key))

    def has(self, key: str) -> bool:
        """True if `key` is a prompt (in every language, by parity)."""
        return key in self.texts[LANGUAGES[0]]

    def voice(self, lang: str) -> Voice:
        """The voice and language tag for `lang`."""
        return self.voices[lang]


class Deferred:
    """A prompt value worked out only if a prompt speaks it (a spoken date costs more than the rest of a turn)."""

    def __init__(self, make: Callable[[], str]):
        self._make = make
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._make()
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class MissingPromptValue(KeyError):
    """A prompt was asked for without a value it needs: a turn at a node the call has not really reached."""


class _Strict(dict):
    """Mapping for format_map that names the prompt when a value is missing."""

    def __init__(self, values: dict, key: str):
        super().__init__(values)
        self.key = key

    def __missing__(self, name: str) -> str:
        raise MissingPromptValue(f"prompt {self.key!r} needs a value for {{{name}}}")


def placeholders(template: str) -> set[str]:
    """Field names used in a str.format template."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _load_file(path: Path) -> tuple[Voice, dict[str, str]]:
    """Read one language file: its voice and its flat key -> text map."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), dict):
        raise PromptError(f"{path}: expected a mapping with 'voice', 'language' and 'prompts'")
    for field in ("voice", "language"):
        if not isinstance(data.get(field), str):
            raise PromptError(f"{path}: missing {field!r}")
    texts = {}
    for key, value in data["prompts"].items():
        if not isinstance(value, str) or not value.strip():
            raise PromptError(f"{path}: prompt {key!r} must be non-empty text")
        texts[str(key)] = " ".join(value.split())
    return Voice(voice=data["voice"], language=data["language"]), texts


def _load_offers(path: Path, offered: dict[str, Voice]) -> dict[str, dict[str, str]]:
    """The offer prompt of each offered language from prompts/offers.yaml, each saying its {key} once."""
    if not offered:
        return {}
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PromptError(f"{path}: expected a mapping of language codes to offers")
    texts = {}
    for lang in offered:
        text = data.get(lang)
        if lang in LANGUAGES:
            raise PromptError(f"{path}: {lang!r} is a language of the whole line, not an offer")
        if not isinstance(text, str) or not text.strip():
            raise PromptError(f"{path}: no offer for {lang!r}, a language config/languages.toml offers")
        if placeholders(text) != {"key"}:
            raise PromptError(f"{path}: the offer for {lang!r} must say {{key}} and nothing else in braces")
        texts[lang] = {OFFER_PROMPT: " ".join(text.split())}
    return texts


def load_catalog(prompts_dir: Path, offered: dict[str, Voice] | None = None) -> Catalog:
    """Load prompts/<lang>.yaml for every language and check they have the same keys and placeholders.

    `offered` (language -> voice, in order) adds the languages the greeting also offers help in, from offers.yaml.
    """
    offered = dict(offered or {})
    voices, texts = {}, {}
    for lang in LANGUAGES:
        voices[lang], texts[lang] = _load_file(prompts_dir / f"{lang}.yaml")
    reference = LANGUAGES[0]
    for lang in LANGUAGES[1:]:
        missing = sorted(set(texts[reference]) - set(texts[lang]))
        extra = sorted(set(texts[lang]) - set(texts[reference]))
        if missing:
            raise PromptError(f"{prompts_dir / f'{lang}.yaml'}: missing prompt {missing[0]!r} (in {reference})")
        if extra:
            raise PromptError(
                f"{prompts_dir / f'{reference}.yaml'}: missing prompt {extra[0]!r} (in {lang})"
            )
        for key, template in texts[reference].items():
            if placeholders(template) != placeholders(texts[lang][key]):
                raise PromptError(
                    f"{prompts_dir / f'{lang}.yaml'}: prompt {key!r} has placeholders "
                    f"{sorted(placeholders(texts[lang][key]))}, {reference} has "
                    f"{sorted(placeholders(template))}"
                )
    texts.update(_load_offers(prompts_dir / OFFERS_FILE, offered))
    voices.update(offered)
    return Catalog(texts=texts, voices=voices, offers=tuple(offered))
