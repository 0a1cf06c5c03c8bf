"""Spoken words (ivr/core/words.py): digits in both languages, normalising, keywords and menu keys."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.cases.numbers import MAX_SERIAL, case_number_for_serial, spoken
from ivr.core.words import (
    contains_phrase,
    digits_from_speech,
    fold_accents,
    key_phrase,
    normalise,
    spoken_key,
    spoken_menu_key,
)

serials = st.integers(min_value=1, max_value=MAX_SERIAL)
digit_chars = st.sampled_from("0123456789")

DIGIT_WORDS_EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGIT_WORDS_ES = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


# ---- normalising ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "normal"), [
    ("Emergéncia!", "emergencia"),
    ("  Press   TWO. ", "press two"),
    ("¿Información?", "informacion"),
    ("¡Ayúdenme, por favor!", "ayudenme por favor"),
    ("it's 1234#", "it s 1234#"),
    ("Niño-Peña", "nino pena"),
    ("", ""),
])
def test_normalise(raw, normal):
    assert normalise(raw) == normal


def test_fold_accents_keeps_case_and_punctuation():
    assert fold_accents("Número: Sí!") == "Numero: Si!"


# ---- keywords ------------------------------------------------------------------------------------

def test_contains_phrase_matches_whole_words_only():
    assert contains_phrase("he is not breathing", "not breathing")
    assert not contains_phrase("breathing is not a problem", "not breathing")
    assert not contains_phrase("codependent", "code")
    assert contains_phrase("hay un incendio", "Incéndio")
    assert not contains_phrase("anything", "")


# Which choice words name (scored, with a verdict) is ivr/core/understanding.py: tests/core/test_understanding.py.


# ---- menu keys -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("speech", "key"), [
    ("press two", "2"), ("two", "2"), ("2", "2"), ("option zero", "0"), ("oh", "0"), ("number nine", "9"),
    ("oprima dos", "2"), ("marque el uno", "1"), ("opcion cero", "0"), ("la nueve", "9"), ("cuatro", "4"),
    ("la una", "1"),
])
def test_spoken_menu_key(speech, key):
    assert spoken_menu_key(speech) == key


@pytest.mark.parametrize("speech", ["", "press", "two three", "twenty", "12", "press star", "one please", "hello"])
def test_spoken_menu_key_rejects_anything_but_one_key(speech):
    assert spoken_menu_key(speech) is None


@pytest.mark.parametrize(("key", "said"), [("1", "1"), ("0", "0"), ("*", "star"), ("#", "pound"), ("*9", "star 9"),
                                           ("12", "12")])
def test_spoken_key(key, said):
    assert spoken_key(key, {"*": "star", "#": "pound"}) == said


KEY_NAMES = {"en": ("star", "pound"), "es": ("asterisco", "numeral")}  # as prompts/*.yaml keys.star, keys.pound


@pytest.mark.parametrize(("text", "lang", "phrase"), [
    ("To hear this again, press 9.", "en", "press 9"),
    ("For the main menu, Press star.", "en", "Press star"),
    ("Press the pound key when done.", "en", "Press the pound"),
    ("To repeat, press one.", "en", "press one"),
    ("For a long key, press 10.", "en", "press 10"),
    ("Para escuchar esto de nuevo, oprima 9.", "es", "oprima 9"),
    ("Para el menú principal, oprima asterisco.", "es", "oprima asterisco"),
    ("Luego oprima la tecla numeral.", "es", "oprima la tecla numeral"),
    ("Marque el cinco.", "es", "Marque el cinco"),
    ("Pulse 3.", "es", "Pulse 3"),
])
def test_key_phrase_finds_a_key_written_into_a_prompt(text, lang, phrase):
    assert key_phrase(text, lang, KEY_NAMES[lang]) == phrase


@pytest.mark.parametrize(("text", "lang"), [
    ("If this is a police, fire or medical emergency, hang up and dial 9-1-1.", "en"),
    ("Inside Hartford, dial 3-1-1.", "en"),
    ("To hear this again, press {key}.", "en"),
    ("For {name}, press {digit}.", "en"),
    ("Press 1st street.", "en"),
    ("Si es una emergencia, cuelgue y marque 9-1-1.", "es"),
    ("Dentro de Hartford, marque 3-1-1.", "es"),
    ("Por favor, marque su número de caso.", "es"),
    ("Para escuchar esto de nuevo, oprima {key}.", "es"),
    ("To hear this again, oprima 9.", "en"),  # each language's own words
])
def test_key_phrase_ignores_emergency_numbers_placeholders_and_plain_words(text, lang):
    assert key_phrase(text, lang, KEY_NAMES[lang]) is None


def test_key_phrase_knows_star_and_pound_only_by_the_names_it_is_given():
    assert key_phrase("For the main menu, press star.", "en") is None
    assert key_phrase("For the main menu, press 9.", "en") == "press 9"


# ---- digit strings -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("one two three four five six seven eight", "en", "12345678"),
        ("zero oh nine", "en", "009"),
        ("five o six", "en", "506"),
        ("1234 5678", "en", "12345678"),
        ("12 34 56 78", "en", "12345678"),
        ("12345678.", "en", "12345678"),
        ("one 2 three", "en", "123"),
        ("One, two; THREE!", "en", "123"),
        ("My case number is 1234 5678", "en", "12345678"),
        ("it's one two", "en", "12"),
        ("it\u2019s one two", "en", "12"),
        ("double five", "en", "55"),
        ("double 5 triple two", "en", "55222"),
        ("uno dos tres cuatro cinco seis siete ocho", "es", "12345678"),
        ("cero nueve", "es", "09"),
        ("s\u00e9is", "es", "6"),
        ("mi número de caso es uno dos tres", "es", "123"),
        ("El número es 1234 5678", "es", "12345678"),
        # Callers mix languages, so each language accepts the other's words.
        ("one dos three cuatro", "en", "1234"),
        ("uno two tres", "es", "123"),
        ("double cinco", "es", "55"),
        ("uno dos", "es-MX", "12"),
        ("one two", "en_US", "12"),
    ],
)
def test_digits_from_speech(text, lang, expected):
    assert digits_from_speech(text, lang) == expected


@pytest.mark.parametrize(
    "text, lang",
    [
        ("pothole on main street", "en"),
        ("pothole on main street", "es"),
        ("", "en"),
        ("my case number is", "en"),
        ("mi número de caso es", "es"),
        ("one two pothole", "en"),
        ("twenty one", "en"),
        ("doce", "es"),
        ("double", "en"),
        ("five double", "en"),
        ("double 55", "en"),
        ("double triple five", "en"),
        ("double my five", "en"),
        ("5th", "en"),
        # In Spanish "o" means "or", so guessing a zero would be wrong.
        ("cinco o seis", "es"),
        ("\u043e\u0434\u0438\u043d 1234", "en"),
        ("\u0661\u0662\u0663", "en"),
    ],
)
def test_digits_from_speech_rejects(text, lang):
    assert digits_from_speech(text, lang) is None


def test_digits_from_speech_rejects_unknown_language():
    with pytest.raises(ValueError):
        digits_from_speech("one", "fr")


@given(
    st.lists(
        st.tuples(digit_chars, st.sampled_from(["en", "es", "numeral"])),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["en", "es"]),
    st.sampled_from(["", "my case number is ", "mi número de caso es ", "it's "]),
)
def test_digits_from_speech_round_trips_mixed_words(parts, lang, prefix):
    words = []
    for digit, form in parts:
        if form == "en":
            words.append(DIGIT_WORDS_EN[int(digit)])
        elif form == "es":
            words.append(DIGIT_WORDS_ES[int(digit)])
        else:
            words.append(digit)
    expected = "".join(digit for digit, _ in parts)
    assert digits_from_speech(prefix + " ".join(words), lang) == expected


@given(serials, st.sampled_from(["en", "es"]))
def test_digits_from_speech_understands_our_own_readback(serial, lang):
    number = case_number_for_serial(serial)
    assert digits_from_speech(spoken(number), lang) == number
