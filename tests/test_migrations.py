"""The schema comes from migrations; the models must describe exactly that schema, and every
migration can be undone: each downgrade gives back the schema its revision had on the way up."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from eventreg import create_app
from eventreg.extensions import db

from .pg import fresh_database


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.fixture
def empty_app(database_url, tmp_path):
    """An app on an empty database of the run's kind (SQLite file or a fresh PostgreSQL one)."""
    if database_url.startswith("sqlite"):
        url, drop = f"sqlite:///{tmp_path / 'steps.db'}", None
    else:
        url, drop = fresh_database()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://testserver",
                      "MAILBOX_DIR": str(tmp_path / "mail")})
    yield app
    with app.app_context():
        db.engine.dispose()
    if drop:
        drop()


def schema() -> dict:
    """The database's schema as reflection sees it: per table its columns (name, type, nullability,
    default), keys, indexes, unique and check constraints; on SQLite also AUTOINCREMENT."""
    db.session.remove()
    with db.engine.connect() as connection:
        seen = inspect(connection)
        tables = {}
        for name in seen.get_table_names():
            if name == "alembic_version":
                continue
            tables[name] = {
                # By name: a column dropped and added back comes last, and nothing here relies on order.
                "columns": sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                                  for c in seen.get_columns(name)),
                "primary key": seen.get_pk_constraint(name)["constrained_columns"],
                "foreign keys": sorted((fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                                        tuple(fk["referred_columns"]), str(fk.get("options")))
                                       for fk in seen.get_foreign_keys(name)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                                   tuple(sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items())))
                                  for i in seen.get_indexes(name)),
                "unique": sorted((u["name"], tuple(u["column_names"])) for u in seen.get_unique_constraints(name)),
                "checks": sorted((c["name"], c["sqltext"]) for c in seen.get_check_constraints(name)),
            }
            if connection.dialect.name == "sqlite":
                sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
                                         {"n": name}).scalar()
                tables[name]["autoincrement"] = "AUTOINCREMENT" in sql.upper()
    return tables


def test_every_downgrade_restores_the_schema_of_its_revision(empty_app):
    with empty_app.app_context():
        script = ScriptDirectory.from_config(empty_app.extensions["migrate"].migrate.get_config())
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]  # base first
        assert len(script.get_heads()) == 1
        on_the_way_up = {"base": schema()}
        for revision in revisions:
            upgrade(revision=revision)
            on_the_way_up[revision] = schema()
        for revision, before in zip(reversed(revisions), ["base", *revisions][-2::-1], strict=True):
            downgrade(revision=before)
            assert schema() == on_the_way_up[before], f"downgrade of {revision} does not give back {before}"
        upgrade()  # and up again to the head
        head = schema()
        assert head == on_the_way_up[revisions[-1]]
        if db.engine.dialect.name == "sqlite":  # a batch rebuild can silently drop AUTOINCREMENT
            declared = {t.name for t in db.metadata.sorted_tables if t.dialect_kwargs.get("sqlite_autoincrement")}
            assert {name for name, table in head.items() if table["autoincrement"]} == declared
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
