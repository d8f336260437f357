from sqlalchemy import inspect

from page_tracker import migrate
from page_tracker.db import Base, make_engine


def test_should_create_every_model_table(database_url: str) -> None:
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrate.current_revision(engine) is not None
    engine.dispose()


def test_should_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = make_engine(database_url)
    head = migrate.current_revision(engine)
    migrate.downgrade(engine, "base")
    assert "counters" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    engine.dispose()
