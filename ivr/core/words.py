"""Spoken words in both languages: digits, accent folding, whole-phrase matching and phone keys said aloud."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

DIGIT_WORDS = {
    "en": {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
           "seven": "7", "eight": "8", "nine": "9"},
    "es": {"cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
           "siete": "7", "ocho": "8", "nueve": "9"},
}
# Callers switch languages mid-sentence, so every language's digit words are always accepted.
ANY_DIGIT_WORD = {word: digit for words in DIGIT_WORDS.values() for word, digit in words.items()}

# ---- normalising ---------------------------------------------------------------------------------

def fold_accents(text: str) -> str:
    """'Número' -> 'Numero': recognisers are inconsistent about accents, keyword lists too."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Lower-case, strip accents and punctuation so 'Emergéncia!' matches 'emergencia'."""
    return " ".join(re.sub(r"[^a-z0-9# ]+", " ", fold_accents(text.lower())).split())


# ---- keywords ------------------------------------------------------------------------------------

def contains_phrase(speech: str, phrase: str) -> bool:
    """Whole-word phrase match inside normalised speech."""
    phrase = normalise(phrase)
    return bool(phrase) and f" {phrase} " in f" {speech} "

# Which of several choices words name is scored, with a verdict on how sure, in understanding.py: a first match
# (or a last one) is how a caller describing graffiti was filed as snow and ice.


# ---- menu keys -----------------------------------------------------------------------------------

PRESS_WORDS = {"press", "option", "number", "oprima", "marque", "opcion", "numero", "el", "la"}
# Feminine "una" agrees with "opcion" ("la una"); inside a spoken number it would be a stray word.
OPTION_ONLY_WORDS = {"una": "1"}


def spoken_menu_key(speech: str) -> str | None:
    """'press two' / 'oprima dos' / '2' -> '2' (one key said aloud, in normalised speech); None otherwise."""
    words = [w for w in speech.split() if w not in PRESS_WORDS]
    if len(words) != 1:
        return None
    word = words[0]
    digit = ANY_DIGIT_WORD.get(word) or OPTION_ONLY_WORDS.get(word)
    if digit:
        return digit
    return word if len(word) == 1 and word.isdigit() else None


def spoken_key(key: str, names: Mapping[str, str]) -> str:
    """A phone key as a prompt says it: digits as themselves, '*' and '#' by name ('*9' -> 'star 9')."""
    return " ".join(names.get(part, part) for part in re.findall(r"[0-9]+|[*#]", key))


# How a prompt tells the caller to press a key: "<verb> [articles] <key>".
PRESS_VERBS = {"en": ("press",), "es": ("oprima", "marque", "pulse", "presione")}
KEY_ARTICLES = {"en": ("the",), "es": ("el", "la", "tecla")}


def key_phrase(text: str, lang: str, key_names: Iterable[str] = ()) -> str | None:
    """The first 'press 5' / 'oprima asterisco' (`key_names`: the words for * and #) in `text`, or None."""
    words = "|".join(re.escape(word) for word in (*DIGIT_WORDS[lang], *key_names))
    keys = r"[0-9]+(?![-0-9])" + (f"|{words}" if words else "")  # a digit run, but not 9-1-1
    pattern = rf"\b(?:{'|'.join(PRESS_VERBS[lang])})\s+(?:(?:{'|'.join(KEY_ARTICLES[lang])})\s+)*(?:{keys})\b"
    found = re.search(pattern, fold_accents(text), re.IGNORECASE)
    return found.group(0) if found else None


# ---- digit strings -------------------------------------------------------------------------------

# A bare "o" is how English recognisers often write a spoken zero, but in Spanish it
# means "or" ("cinco o seis"), where guessing a digit would be worse than re-asking.
_LOOSE_DIGIT_WORDS = {"en": {"o": "0"}, "es": {}}
_MULTIPLIERS = {"double": 2, "triple": 3}
# Accent-stripped, apostrophe-free forms, since that is how tokens look when compared.
_FILLER = frozenset({"my", "case", "number", "is", "its", "it", "the", "um", "uh", "er",
                     "mi", "numero", "caso", "es", "el", "de", "del", "eh"})


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of 0-9 only."""
    # str.isdigit() alone accepts superscripts and other scripts' digits, which int() and the
    # Damm table would then mishandle.
    return text.isascii() and text.isdigit()


def _digit_vocabulary(lang: str) -> dict[str, str]:
    """Digit words accepted for a caller speaking `lang` ('es-MX' and 'en_US' count as es and en)."""
    base_lang = lang.replace("_", "-").split("-", 1)[0].lower()
    if base_lang not in _LOOSE_DIGIT_WORDS:
        raise ValueError(f"unsupported language: {lang!r}")
    return {**ANY_DIGIT_WORD, **_LOOSE_DIGIT_WORDS[base_lang]}


def _tokens(text: str) -> list[str]:
    """Lower-case, accent-free words of a transcript."""
    cleaned = fold_accents(text).lower()
    # Drop apostrophes before splitting so "it's" stays one filler word instead of "it" + "s".
    cleaned = re.sub(r"['\u2019`]", "", cleaned)
    # Split on anything that is not a letter or digit in any script, so a foreign word
    # becomes an unknown token (and a rejection) rather than a silently ignored separator.
    return [token for token in re.split(r"[\W_]+", cleaned) if token]


def _token_digits(token: str, vocabulary: dict[str, str]) -> str | None:
    """The digits one token stands for, or None if it is not a number."""
    if token in vocabulary:
        return vocabulary[token]
    return token if is_ascii_digits(token) else None


def digits_from_speech(text: str, lang: str) -> str | None:
    """Return the digits spoken in a recogniser transcript, or None if it holds anything else."""
    vocabulary = _digit_vocabulary(lang)
    out: list[str] = []
    repeat = 1
    for token in _tokens(text):
        if token in _MULTIPLIERS:
            if repeat != 1:
                return None  # "double triple five" has no sensible reading
            repeat = _MULTIPLIERS[token]
            continue
        if token in _FILLER and repeat == 1:
            continue
        digits = _token_digits(token, vocabulary)
        # "double 55" is ambiguous; only a single digit may follow a multiplier.
        if digits is None or (repeat != 1 and len(digits) != 1):
            return None
        out.append(digits * repeat)
        repeat = 1
    if repeat != 1 or not out:
        return None
    return "".join(out)
