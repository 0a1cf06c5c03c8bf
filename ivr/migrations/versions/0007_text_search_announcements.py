"""Text indexes for finding cases by their words, and announcements set at run time (issue 9).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# SQLite: an FTS5 table over the cases' description and location. "External content": it stores only the index
# and reads the text from `cases` itself; the triggers below keep it in step. remove_diacritics folds accents, so
# "martin" finds "Martín" and "Ñ" is "n". NOTE: a later migration that rebuilds `cases` with batch_alter_table
# drops these triggers with the old table: it must create them again (CREATE_TRIGGERS) and rebuild the index.
SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE cases_text USING fts5(description, location, content='cases', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')"
)
CREATE_TRIGGERS = (
    "CREATE TRIGGER cases_text_insert AFTER INSERT ON cases BEGIN "
    "INSERT INTO cases_text(rowid, description, location) VALUES (new.id, new.description, new.location); END",
    "CREATE TRIGGER cases_text_delete AFTER DELETE ON cases BEGIN "
    "INSERT INTO cases_text(cases_text, rowid, description, location) "
    "VALUES ('delete', old.id, old.description, old.location); END",
    # Only a change to the words touches the index: status changes, the commonest update, do not.
    "CREATE TRIGGER cases_text_update AFTER UPDATE OF description, location ON cases BEGIN "
    "INSERT INTO cases_text(cases_text, rowid, description, location) "
    "VALUES ('delete', old.id, old.description, old.location); "
    "INSERT INTO cases_text(rowid, description, location) VALUES (new.id, new.description, new.location); END",
)

# PostgreSQL: the same words in a GIN index of tsvectors. The text search configuration folds accents
# (unaccent) and case (simple) as FTS5 does; punctuation is turned into spaces first, so both databases split the
# text into the same words (PostgreSQL's parser would otherwise keep "-125" or "st./park" as one token). The
# location's words are weighted A, so the desk's "by street" reads the same index as the queue's text filter.
PG_FUNCTION = """
CREATE FUNCTION {schema}.ivr_case_words(description text, location text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('{schema}.ivr_search'::regconfig,
                               regexp_replace(coalesce(location, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
      || to_tsvector('{schema}.ivr_search'::regconfig,
                     regexp_replace(coalesce(description, ''), '[^[:alnum:]]+', ' ', 'g'))
$$"""
PG_WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_text_index()
    else:
        op.execute(SQLITE_CREATE)
        for trigger in CREATE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO cases_text(cases_text) VALUES ('rebuild')")  # the cases already there
    # The information menu's announcement, set by a supervisor from the console or `ivr announcement set`.
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_en", sa.Text, nullable=False),
        sa.Column("message_es", sa.Text, nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
        sa.Column("cleared_by", sa.String(100)),
    )
    op.create_index("ix_announcements_cleared_at", "announcements", ["cleared_at"])


def _postgres_text_index() -> None:
    """The unaccent extension, the text search configuration, the words function and its GIN index."""
    bind = op.get_bind()
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")).first()
    if available is None:
        raise RuntimeError(
            "migration 0007 needs PostgreSQL's 'unaccent' extension, which this server does not have: install "
            "the server's contrib package (Debian: postgresql-contrib) and run `ivr db upgrade` again")
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError as exc:
        raise RuntimeError(
            "migration 0007 could not create PostgreSQL's 'unaccent' extension (it needs the CREATE privilege on "
            "the database): have an administrator run `CREATE EXTENSION unaccent;` in this database, then run "
            f"`ivr db upgrade` again. The server said: {exc.orig}") from exc
    unaccent = bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                    "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'")).scalar_one()
    # Named with their schema inside the function: a restore (pg_dump) builds the index with an empty search_path.
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    op.execute(f'CREATE TEXT SEARCH CONFIGURATION "{schema}".ivr_search (COPY = pg_catalog.simple)')
    op.execute(f'ALTER TEXT SEARCH CONFIGURATION "{schema}".ivr_search ALTER MAPPING FOR {PG_WORD_TOKENS} '
               f'WITH "{unaccent}".unaccent, pg_catalog.simple')
    op.execute(PG_FUNCTION.format(schema=f'"{schema}"'))
    op.execute("CREATE INDEX ix_cases_words ON cases USING gin (ivr_case_words(description, location))")


def downgrade() -> None:
    op.drop_index("ix_announcements_cleared_at", table_name="announcements")
    op.drop_table("announcements")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_cases_words")
        op.execute("DROP FUNCTION ivr_case_words(text, text)")
        op.execute("DROP TEXT SEARCH CONFIGURATION ivr_search")
        # The extension stays: another schema object of the database may use it by now.
    else:
        for trigger in ("cases_text_insert", "cases_text_delete", "cases_text_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE cases_text")
