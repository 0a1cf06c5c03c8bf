"""What a caller's words name: every choice scored against the whole utterance, with a verdict on how sure.

Pure: no Flask, Twilio or SQLAlchemy. Words are folded and normalised as everywhere else (words.py), reduced to
their stems per language (snowballstemmer: "potholes"/"pothole", "recogieron"/"recogida" meet), and matched
with tolerance for recognition slips (rapidfuzz: "pothold", "grafitti"). A choice's vocabulary is a list of
terms per language, single words or phrases. A phrase counts for as many words as it has, so "hole in the
road" outweighs "road"; a term several choices share is split between them, so "basura" alone decides nothing
between a missed pickup and dumping. Stop words are ignored. Every language's terms count alike, whatever the
call's language: callers mix them ("hay un pothole", "my basura wasn't picked up"). Every choice is scored
against the whole utterance, so "there's a pothole and the light is out" names two choices and the verdict says
so, instead of whichever came first or last.

Verdicts: `clear` (one choice well ahead: act on it), `close` (a plausible choice, not by enough: confirm it),
`none` (nothing named: ask again). The thresholds are calibrated on the corpus in tests/data
(tests/core/test_understanding.py prints the figures).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import product

import snowballstemmer
from rapidfuzz import fuzz, process

from .words import normalise

CLEAR, CLOSE, NONE = "clear", "close", "none"

# ---- calibration ---------------------------------------------------------------------------------
# Scores are in "words": a word of one choice's own is 1, a two-word phrase 1.5 (each further word 0.5 more), a
# term two choices share half its worth to each, a recognition slip 0.8 of it. Calibrated on the corpus in
# tests/data: the nearest looser settings (runner-up at 1.5 instead of 2 times less, or phrases worth a whole
# word per word) each file one report confidently wrong, where another choice's compound name for a place
# ("stop sign", "señal de pare") outweighs the problem itself ("tree", a slipped "graffitti").
NAMED_FROM = 0.5  # below this nothing was named (a slip of a word two choices share scores 0.4)
CLEAR_FROM = 1.0  # a clear winner has at least one whole word or phrase of its own ...
AHEAD_BY = 2.0  # ... and at least twice the runner-up's score
FUZZY_CUTOFF = 85  # rapidfuzz ratio: one letter dropped, added or swapped in a word of six or more letters
FUZZY_MIN_LENGTH = 6  # shorter stems are too near other words ("garag(e)"/"garbag(e)", "rat"/"cat") to guess
FUZZY_CREDIT = 0.8  # a slip counts less than the word, so a slip alone is confirmed rather than assumed
SLACK = 2  # other words allowed inside a phrase: "hole in the middle of the road" is "hole ... road"
PHRASE_WORD = 0.5  # each word of a phrase after its first: "stop sign" names one thing, not two
MAX_TOKENS = 80  # a recogniser transcript longer than this is rambling; its start says what it is about
MAX_HITS = 6  # places one word of a phrase is looked for (a caller repeating "rats, rats" needs no more)

STEMMERS = {"en": "english", "es": "spanish"}


def _word_set(text: str) -> frozenset[str]:
    """A set of words written as text, the way word lists read best."""
    return frozenset(text.split())


NEGATION = "no"
# Negations in both languages read as one word, so "no heat", "heat isn't working" and "sin placas" share it.
NEGATIONS = frozenset({
    "no", "not", "never", "dont", "didnt", "doesnt", "isnt", "wasnt", "werent", "arent", "hasnt", "havent",
    "hadnt", "wont", "wouldnt", "cant", "couldnt", "cannot", "aint", "nope", "nah", "without",
    "nunca", "sin", "tampoco",
})
# Function words and fillers of either language (callers mix them). Words that carry a choice, such as "up",
# "out", "down", "yes", "si", "other", "again", stay out of this list.
STOP_WORDS = _word_set("""
a an the i im ive id ill me my mine myself we weve us our ours you youre your yours he hes him his she shes her
they theyre theyve them their it its is are was were be been being am do does did have has had having there
theres here heres this that thats these those to of in on at by for with from into onto about and or but so if
as um uh er ah oh hmm like just hi hello hey please thank thanks well okay ok also too very really some any can
could would will should may might must want wanna need get got gonna calling call what whats who where when how
why which
el la los las lo un una unos unas le les se me te nos mi mis tu tus su sus de del al en con por para que y e o
u pero como es son esta estan estoy era fue ser estar hay habia ha han he hemos muy mucho mucha ya eh este esa
ese pues hola buenas buenos quiero quisiera necesito favor llamo llamando
""")
# A question ("what day is trash pickup?") asks about a problem rather than reporting it, so when judging a
# report a question is never clear, only confirmed. Spanish interrogatives carry their accent ("qué", not the
# "que" many sentences open with); greetings and fillers before the first word are skipped.
QUESTION_WORDS = _word_set("""
what whats when where why which who how is are do does can could will would should
qué cuándo cómo dónde cuál cuáles puede puedo podría
""")
LEAD_INS = _word_set("um uh er hi hello hey yeah yes so ok okay well oh hola buenas buenos días sí bueno mire oiga "
                     "eh pues")


@dataclass(frozen=True)
class Verdict:
    """How sure we are which choice the caller named: the best choice, its rival and every score."""

    kind: str  # clear | close | none
    choice: Hashable | None  # the best choice (None when nothing was named)
    score: float
    runner_up: Hashable | None
    runner_up_score: float
    scores: tuple[tuple[Hashable, float], ...]


@dataclass(frozen=True)
class _Token:
    """One word of the utterance: its stems per language, and whether it is a stop word."""

    stems: Mapping[str, str]
    stop: bool


@dataclass(frozen=True)
class _Unit:
    """Something a term's word can match: one word, or two adjacent words said as one ("pot hole")."""

    first: int
    last: int
    stems: Mapping[str, str]
    stop: bool


@dataclass(frozen=True)
class _Term:
    """A word or phrase of one choice in one language, as stems, with what it is worth."""

    text: str
    lang: str
    stems: tuple[str, ...]
    weight: float
    stop_only: bool  # made only of stop words ("what is"): then they are what must be said


# ---- words ---------------------------------------------------------------------------------------

_local = threading.local()  # snowball stemmers keep state while stemming: one set per thread


def _stemmer(lang: str):
    """This thread's stemmer for a language."""
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {code: snowballstemmer.stemmer(name) for code, name in STEMMERS.items()}
    return stemmers[lang]


@lru_cache(maxsize=50_000)
def stem(word: str, lang: str) -> str:
    """A normalised word's stem in a language ('potholes' -> 'pothol'); negations and numbers as they are."""
    if word == NEGATION or word.isdigit():
        return word
    return _stemmer(lang).stemWord(word)


def words_of(text: str) -> list[str]:
    """Normalised words, contractions closed up ("wasn't" -> "wasnt") and every negation read as 'no'."""
    # Dropping the apostrophe first keeps "wasn't" one word instead of "wasn" + "t".
    plain = normalise(re.sub(r"['\u2019`]", "", text))
    return [NEGATION if word in NEGATIONS else word for word in plain.split()]


def _tokens(text: str) -> list[_Token]:
    """The utterance as tokens, stemmed in every language (a Spanish caller may say 'graffiti')."""
    return [_Token({lang: stem(word, lang) for lang in STEMMERS}, word in STOP_WORDS)
            for word in words_of(text)[:MAX_TOKENS]]


def _units(tokens: Sequence[_Token], raw: Sequence[str]) -> list[_Unit]:
    """Every word, plus each pair of adjacent content words joined ('street light' -> 'streetlight')."""
    units = [_Unit(index, index, token.stems, token.stop) for index, token in enumerate(tokens)]
    for index in range(len(tokens) - 1):
        if not (tokens[index].stop or tokens[index + 1].stop):
            joined = raw[index] + raw[index + 1]
            units.append(_Unit(index, index + 1, {lang: stem(joined, lang) for lang in STEMMERS}, False))
    return units


# ---- the vocabulary ------------------------------------------------------------------------------

Choices = Sequence[tuple[Hashable, Mapping[str, Iterable[str]]]]


def _weight(stems: tuple[str, ...]) -> float:
    """What a term is worth before sharing: a word 1, each further word of a phrase PHRASE_WORD more."""
    return 1 + PHRASE_WORD * (len(stems) - 1)


def _same_term(lang: str, stems: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Two terms are one if their language and words match, in any order ("apartment is freezing")."""
    return lang, tuple(sorted(stems))


def _term_stems(text: str, lang: str) -> tuple[tuple[str, ...], bool]:
    """A term's stems without its stop words (all of them if it has nothing else), and which it was."""
    words = words_of(text)
    content = [word for word in words if word not in STOP_WORDS]
    return tuple(stem(word, lang) for word in (content or words)), not content


class Vocabulary:
    """The terms of every choice, compiled once: stems, weights, and the words fuzzy matching looks at."""

    def __init__(self, choices: Choices):
        self.keys = [key for key, _ in choices]
        compiled = [self._compile(words) for _, words in choices]
        # A term several choices share is worth a share of its words to each.
        shared = Counter(_same_term(lang, stems) for terms in compiled for lang, stems, _, _ in terms)
        self.terms = [
            [_Term(text, lang, stems, _weight(stems) / shared[_same_term(lang, stems)], stop_only)
             for lang, stems, text, stop_only in terms]
            for terms in compiled
        ]
        self.words = {lang: sorted({word for terms in self.terms for term in terms if term.lang == lang
                                    for word in term.stems if len(word) >= FUZZY_MIN_LENGTH})
                      for lang in STEMMERS}
        self._hints: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def _compile(words: Mapping[str, Iterable[str]]) -> list[tuple[str, tuple[str, ...], str, bool]]:
        """(language, stems, text, stop-only) of one choice's terms, each term once."""
        seen, terms = set(), []
        for lang, texts in words.items():
            for text in texts:
                stems, stop_only = _term_stems(str(text), lang)
                if stems and _same_term(lang, stems) not in seen:
                    seen.add(_same_term(lang, stems))
                    terms.append((lang, stems, str(text), stop_only))
        return terms

    def hints(self, lang: str) -> tuple[str, ...]:
        """Twilio <Gather> hints: the caller's language terms as written, once each, within Twilio's limits."""
        if lang not in self._hints:  # every listening turn asks; the vocabulary never changes
            # Twilio takes up to 500 comma-separated entries of up to 100 characters, words separated by spaces.
            hints = dict.fromkeys(" ".join(re.sub(r"[,;]", " ", term.text).split())[:100]
                                  for terms in self.terms for term in terms if term.lang == lang)
            self._hints[lang] = tuple(hint for hint in hints if hint)[:500]
        return self._hints[lang]

    def understand(self, speech: str) -> Verdict:
        """Score every choice against the whole utterance and judge the result."""
        raw = words_of(speech)[:MAX_TOKENS]
        tokens = _tokens(speech)
        if not tokens:  # keys pressed, or silence: nothing was said to score
            return judge([(key, 0.0) for key in self.keys])
        hits = _Hits(self, _units(tokens, raw), tokens)
        scored = [(key, round(hits.score(terms), 3)) for key, terms in zip(self.keys, self.terms, strict=True)]
        return judge(scored)


def judge(scored: Sequence[tuple[Hashable, float]]) -> Verdict:
    """clear, close or none, from each choice's score (ties keep the choices' order)."""
    ranked = sorted(scored, key=lambda item: -item[1])
    best_key, best = ranked[0] if ranked else (None, 0.0)
    rival_key, rival = ranked[1] if len(ranked) > 1 else (None, 0.0)
    if best < NAMED_FROM:
        return Verdict(NONE, None, best, None, 0.0, tuple(scored))
    kind = CLEAR if best >= CLEAR_FROM and rival * AHEAD_BY <= best else CLOSE
    return Verdict(kind, best_key, best, rival_key if rival > 0 else None, rival, tuple(scored))


# ---- matching ------------------------------------------------------------------------------------

class _Hits:
    """Where each vocabulary word was said in one utterance, exactly or as a slip, and the terms it makes."""

    def __init__(self, vocabulary: Vocabulary, units: list[_Unit], tokens: list[_Token]):
        self.units = units
        self.content = [0]  # running count of content words, to measure the gaps inside a phrase
        for token in tokens:
            self.content.append(self.content[-1] + (not token.stop))
        self.found: dict[str, dict[str, list[tuple[int, float]]]] = {
            lang: self._find(units, lang, vocabulary.words[lang]) for lang in STEMMERS}

    @staticmethod
    def _find(units: list[_Unit], lang: str, words: list[str]) -> dict[str, list[tuple[int, float]]]:
        """word -> [(unit, credit)]: exact stems, and slips of the longer words found by rapidfuzz."""
        found: dict[str, list[tuple[int, float]]] = {}
        for index, unit in enumerate(units):
            said = unit.stems[lang]
            found.setdefault(said, []).append((index, 1.0))
            if len(said) < FUZZY_MIN_LENGTH or unit.stop:
                continue
            for word, _, _ in process.extract(said, words, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None):
                if word != said:
                    found.setdefault(word, []).append((index, FUZZY_CREDIT))
        return found

    def score(self, terms: list[_Term]) -> float:
        """A choice's score: its best non-overlapping term matches, each term counted once."""
        matches = sorted((match for term in terms if (match := self._match(term))), key=lambda m: -m[0])
        used: set[int] = set()
        total = 0.0
        for value, covered in matches:
            if not used & covered:
                used |= covered
                total += value
        return total

    def _match(self, term: _Term) -> tuple[float, set[int]] | None:
        """The best place the whole term was said (its words in any order, close together), or None."""
        options = [self._places(word, term) for word in term.stems]
        if not all(options):
            return None
        best: tuple[float, set[int]] | None = None
        for combination in product(*options):
            placed = self._placed(combination)
            if placed and (best is None or placed[0] > best[0]):
                best = placed
        if best is None:
            return None
        return term.weight * best[0], best[1]

    def _places(self, word: str, term: _Term) -> list[tuple[int, float]]:
        """Units where one word of a term was said (stop words only count for a stop-word-only term)."""
        places = self.found[term.lang].get(word, [])
        return [(index, credit) for index, credit in places if term.stop_only or not self.units[index].stop][:MAX_HITS]

    def _placed(self, combination: Sequence[tuple[int, float]]) -> tuple[float, set[int]] | None:
        """(credit, positions) if these units do not overlap and sit close enough together, else None."""
        covered: set[int] = set()
        credit = 1.0
        for index, unit_credit in combination:
            unit = self.units[index]
            positions = set(range(unit.first, unit.last + 1))
            if covered & positions:
                return None
            covered |= positions
            credit *= unit_credit
        first, last = min(covered), max(covered)
        between = self.content[last + 1] - self.content[first] - sum(
            1 for position in covered if self.content[position + 1] > self.content[position])
        return (credit, covered) if between <= SLACK else None


# ---- the public face -----------------------------------------------------------------------------

def _frozen(choices: Choices) -> tuple:
    """Choices as a hashable value, so each menu's vocabulary is compiled once."""
    return tuple((key, tuple((lang, tuple(words)) for lang, words in sorted(mapping.items())))
                 for key, mapping in choices)


@lru_cache(maxsize=128)
def _vocabulary(frozen: tuple) -> Vocabulary:
    """A compiled vocabulary, cached: menus and service types are the same on every call."""
    return Vocabulary([(key, dict(words)) for key, words in frozen])


def vocabulary(choices: Choices) -> Vocabulary:
    """The compiled vocabulary of (key, {language: words and phrases}) choices."""
    return _vocabulary(_frozen(choices))


def is_question(speech: str) -> bool:
    """True if the caller asked something ('What day is trash pickup?', '¿Cuándo pasa la basura?')."""
    text = (speech or "").strip()
    if text.endswith("?") or text.startswith("¿"):
        return True
    words = [word for word in re.findall(r"\w+", text.lower()) if word not in LEAD_INS]
    return bool(words) and words[0] in QUESTION_WORDS


def understand(speech: str, choices: Choices, questions_unsure: bool = False) -> Verdict:
    """Which of the choices the caller's words name, and how sure that is (a question at most close, if asked)."""
    verdict = vocabulary(choices).understand(speech or "") if choices else judge([])
    if questions_unsure and verdict.kind == CLEAR and is_question(speech):
        return replace(verdict, kind=CLOSE)
    return verdict


def hints(choices: Choices, lang: str) -> tuple[str, ...]:
    """Speech-recognition hints for a prompt offering these choices, from the same vocabulary."""
    return vocabulary(choices).hints(lang) if choices else ()
