"""Alembic environment: runs migrations against the URL set by ivr.db.alembic_config."""

from alembic import context

from ivr.cases.text_search import in_the_models
from ivr.db import make_engine, migration_lock
from ivr.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations with a live connection."""
    url = context.config.get_main_option("sqlalchemy.url")
    connectable = make_engine(url)
    with connectable.connect() as connection, migration_lock(connection):
        # Configured only once the lock is held, so the revision Alembic reads is the one the other run left.
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", include_object=in_the_models)
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations_online()
