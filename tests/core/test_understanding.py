"""Understanding callers (ivr/core/understanding.py): the scorer on small vocabularies, then the corpus of
resident utterances in tests/data, judged with the shipped service types, with its figures printed."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from ivr.core.understanding import CLEAR, CLOSE, NONE, hints, is_question, stem, understand, words_of
from ivr.settings import PROJECT_ROOT
from ivr.settings import load as load_settings

# ---- the scorer ----------------------------------------------------------------------------------

STREET = [
    ("pothole", {"en": ["pothole", "hole in the road"], "es": ["bache", "hoyo en la calle"]}),
    ("light", {"en": ["streetlight", "light is out"], "es": ["luz de la calle"]}),
    ("road", {"en": ["road"], "es": ["carretera"]}),
    ("graffiti", {"en": ["graffiti"], "es": ["grafiti"]}),
    ("trash", {"en": ["trash", "trash wasn't picked up"], "es": ["basura", "no recogieron la basura"]}),
    ("dumping", {"en": ["trash", "dumped"], "es": ["basura", "tiraron"]}),
]


def verdict(speech: str, choices=STREET, **options):
    return understand(speech, choices, **options)


@pytest.mark.parametrize(("speech", "choice"), [
    ("potholes everywhere", "pothole"),  # stemmed: plural and singular meet
    ("hay muchos baches", "pothole"),
    ("the streetlights on my block", "light"),
    ("THE Graffiti!", "graffiti"),  # case and punctuation folded
    ("mi basura, no la recogieron", "trash"),  # stop words and negation: "no ... recogieron ... basura"
    ("my trash was not picked up", "trash"),  # "wasn't" and "was not" are one negation
    ("tiraron un sofá", "dumping"),
])
def test_words_are_stemmed_and_folded_per_language(speech, choice):
    found = verdict(speech)
    assert (found.kind, found.choice) == (CLEAR, choice), found


def test_stems_are_the_languages_own():
    assert stem("potholes", "en") == stem("pothole", "en")
    assert stem("recogieron", "es") == stem("recogida", "es")
    assert words_of("It wasn't picked up") == ["it", "no", "picked", "up"]


@pytest.mark.parametrize(("slip", "choice"), [("pothold", "pothole"), ("grafitti", "graffiti"),
                                              ("graffitti", "graffiti")])
def test_a_recognition_slip_is_offered_for_confirmation_not_assumed(slip, choice):
    found = verdict(f"there's {slip} on my street")
    assert (found.kind, found.choice) == (CLOSE, choice), found


@pytest.mark.parametrize("said", ["pot hole", "street light"])
def test_two_words_said_for_one_are_joined(said):
    assert verdict(f"a {said} by the school").kind == CLEAR


def test_short_words_are_not_forgiven_slips():
    assert verdict("there's a rood").kind == NONE  # "road" needs its letters: four are too few to guess at
    trash = [("trash", {"en": ["garbage"]})]
    assert understand("it's in my garage", trash).kind == NONE  # one letter from "garbage", but another word


def test_a_phrase_counts_more_than_a_word():
    found = verdict("there's a hole in the middle of the road")  # "hole ... road": the phrase, words apart
    scores = dict(found.scores)
    assert found.choice == "pothole" and scores["pothole"] > scores["road"] > 0, found
    # More, but not twice as much: "road" was said too, so the phrase's choice is offered, not assumed.
    assert found.kind == CLOSE
    assert verdict("the light is out").kind == CLEAR  # a phrase alone is a clear answer


def test_a_word_two_choices_share_decides_nothing_alone():
    found = verdict("trash")
    assert found.kind == CLOSE and {found.choice, found.runner_up} == {"trash", "dumping"}
    assert verdict("someone dumped trash").choice == "dumping"
    assert verdict("my trash wasn't picked up").choice == "trash"


@pytest.mark.parametrize("speech", ["there's a pothole and the light is out on my street",
                                    "hay un bache y la luz de la calle no sirve",
                                    "graffiti on the wall and a pothole by the door"])
def test_two_problems_in_one_sentence_are_never_a_clear_answer(speech):
    """Scored against the whole utterance, not the first or last thing that matched."""
    found = verdict(speech)
    assert found.kind == CLOSE and found.runner_up is not None, found


@pytest.mark.parametrize("speech", ["", "hello?", "I want to pay my taxes", "um I'm not sure", "the the the"])
def test_nothing_named_is_none(speech):
    assert verdict(speech).kind == NONE


def test_stop_words_alone_can_still_be_a_choice():
    """A menu word made only of small words ("what is") is matched as written."""
    choices = [("about", {"en": ["about", "what is"]}), ("hours", {"en": ["hours"]})]
    assert understand("what is 311", choices).choice == "about"


def test_a_question_about_a_problem_is_confirmed_not_filed():
    asked = verdict("what day is the graffiti crew coming", questions_unsure=True)
    assert (asked.kind, asked.choice) == (CLOSE, "graffiti")
    assert verdict("what day is the graffiti crew coming").kind == CLEAR
    assert is_question("¿Cuándo pasan por la basura?") and is_question("um, how do I report graffiti")
    assert not is_question("que no recogieron la basura") and not is_question("there's graffiti")


def test_hints_come_from_the_vocabulary_within_twilio_limits():
    choices = [("a", {"en": ["one, two", "x" * 150, "pothole"], "es": ["bache"]}), ("b", {"en": ["pothole"]})]
    said = hints(choices, "en")
    assert said == ("one two", "x" * 100, "pothole")
    assert hints(choices, "es") == ("bache",)
    assert hints([], "en") == ()


# ---- the corpus ----------------------------------------------------------------------------------

DATA = PROJECT_ROOT / "tests" / "data"
SETTINGS = load_settings(environ={})
TYPES = [st.code for st in SETTINGS.service_types]
CHOICES = [(st.code, {lang: st.words(lang) for lang in ("en", "es")}) for st in SETTINGS.service_types]
UNKNOWN = "unknown"


def corpus(lang: str) -> list[tuple[list[str], str]]:
    """(expected codes, utterance): a row naming two problems accepts either."""
    with (DATA / f"report_utterances_{lang}.tsv").open(encoding="utf-8") as handle:
        return [(row["expected"].split("|"), row["utterance"]) for row in csv.DictReader(handle, delimiter="\t")]


def outcome(expected: list[str], found) -> str:
    """right (clear and right, or nothing for an unknown), asked (close or none), wrong (clear and wrong)."""
    if found.kind == CLEAR:
        return "right" if found.choice in expected else "wrong"
    if found.kind == NONE and expected == [UNKNOWN]:
        return "right"
    return "asked"


def cell(found) -> str:
    """The confusion table's column for a verdict."""
    return found.choice if found.kind == CLEAR else f"{found.kind}"


def report(lang: str) -> tuple[Counter, str]:
    """The figures and the confusion table for one language."""
    counts: Counter = Counter()
    table: dict[str, Counter] = {}
    for expected, utterance in corpus(lang):
        found = understand(utterance, CHOICES, questions_unsure=True)
        counts[outcome(expected, found)] += 1
        counts["false_confirmations"] += found.kind == CLOSE and found.choice not in expected
        row = "two problems" if len(expected) > 1 else expected[0]
        table.setdefault(row, Counter())[cell(found)] += 1
    return counts, confusion_text(lang, counts, table)


def confusion_text(lang: str, counts: Counter, table: dict[str, Counter]) -> str:
    """Rows: what the caller meant; columns: clear verdicts by type (numbered), then close and none."""
    columns = [*TYPES, CLOSE, NONE]
    heads = [str(index + 1) for index in range(len(TYPES))] + [CLOSE, NONE]
    total = sum(counts[key] for key in ("right", "asked", "wrong"))
    lines = [f"{lang}: {total} utterances; accuracy {counts['right'] / total:.1%}, correct or asked "
             f"{(counts['right'] + counts['asked']) / total:.1%}, confidently wrong {counts['wrong']}, "
             f"false confirmations {counts['false_confirmations']}",
             f"{'said (rows) / verdict (columns)':<32}" + "".join(f"{head:>6}" for head in heads)]
    for row in [*TYPES, UNKNOWN, "two problems"]:
        lines.append(f"{row:<32}" + "".join(f"{table.get(row, Counter())[column] or '.':>6}" for column in columns))
    lines.append("columns: " + ", ".join(f"{index + 1} {code}" for index, code in enumerate(TYPES)))
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_corpus_is_big_and_varied_enough_to_judge_by(lang):
    rows = corpus(lang)
    assert len(rows) >= 150
    named = Counter(code for expected, _ in rows for code in expected)
    assert set(named) == {*TYPES, UNKNOWN} and min(named.values()) >= 10
    assert sum(len(expected) > 1 for expected, _ in rows) >= 5  # two problems in one breath
    assert len({utterance.lower() for _, utterance in rows}) == len(rows)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_corpus_is_understood_or_asked_about_and_never_confidently_wrong(lang):
    counts, text = report(lang)
    print("\n" + text)
    total = counts["right"] + counts["asked"] + counts["wrong"]
    assert counts["wrong"] == 0, text
    assert (counts["right"] + counts["asked"]) / total >= 0.95, text
    # Asking is safe but slow: most plain descriptions should go straight through.
    assert counts["right"] / total >= 0.8, text
