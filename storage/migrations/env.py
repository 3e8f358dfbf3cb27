"""Alembic environment: the engine is handed over by ``storage.db`` (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from storage.models import Base, include_object


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
