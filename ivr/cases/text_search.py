"""Cases by the words of their description and location, through each database's text index (migration 0007).

A search is a few words; a case matches when each of them begins a word of its description or location (or of its
location alone, for the desk's street search), accents and case aside: "farm" finds "Farmington Avenue",
"martin" finds "Calle Martín". A word of one or two characters ("12", "st") must be a whole word: as a beginning
it would match a good part of the city and read most of the index. SQLite answers from the FTS5 table
`cases_text`, PostgreSQL from the GIN index of `ivr_case_words(description, location)`; both split text into the
same words, so both find the same cases.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import column, func, literal_column, select, table
from sqlalchemy.sql.elements import ColumnElement

from ..models import Case

# A word is a run of letters and digits; everything else (quotes, dashes, FTS or tsquery operators) separates.
WORD = re.compile(r"[^\W_]+")
MOST_WORDS = 8
SHORTEST_PREFIX = 3
SQLITE_TABLES = frozenset({"cases_text", "cases_text_data", "cases_text_idx", "cases_text_docsize",
                           "cases_text_config"})
PG_INDEX = "ix_cases_words"
_FTS = table("cases_text", column("rowid"), column("cases_text"))


def words(text: str) -> list[str]:
    """The words of a search, in order, each once (composed first, so a decomposed accent stays in its word)."""
    found = WORD.findall(unicodedata.normalize("NFC", text or ""))
    return list(dict.fromkeys(word.lower() for word in found))


def matching(dialect: str, search_words: list[str], location_only: bool = False) -> ColumnElement[bool]:
    """A WHERE clause: the case's text has a word starting with each of these (its location's, if location_only)."""
    if not search_words:
        raise ValueError("a text search needs at least one word")
    if dialect == "postgresql":
        # Plain letters and digits only (see WORD), so nothing in a word can be read as a tsquery operator.
        weight = "A" if location_only else ""
        query = " & ".join(f"{word}:{'*' if _prefix(word) else ''}{weight}".rstrip(":") for word in search_words)
        config = literal_column("'ivr_search'::regconfig")
        return func.ivr_case_words(Case.description, Case.location).bool_op("@@")(func.to_tsquery(config, query))
    # FTS5: each word a quoted string (nothing in it is an operator) with * for "starting with".
    prefix = "location : " if location_only else ""
    query = " AND ".join(f'{prefix}"{word}"{"*" if _prefix(word) else ""}' for word in search_words)
    return Case.id.in_(select(_FTS.c.rowid).where(_FTS.c.cases_text.op("MATCH")(query)))


def _prefix(word: str) -> bool:
    """Whether a word is matched as the beginning of words (long enough) or only whole."""
    return len(word) >= SHORTEST_PREFIX


def in_the_models(object_, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic's include_object: the text index lives in migration 0007 only (no model can describe it)."""
    return not (reflected and (name in SQLITE_TABLES or name == PG_INDEX))
