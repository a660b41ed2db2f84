"""The mart's DDL, generated from the table descriptions; every statement is idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from batch_app.mart.columns import Table
from batch_app.mart.tables import SCHEMA, TABLES

SCHEMA_VERSION = 4
SCHEMA_COMMENT = (
    "Reporting mart of the smart-meter platform: batch results for Excel, Power Query "
    f"and ODBC (schema version {SCHEMA_VERSION})"
)


@dataclass(frozen=True)
class View:
    """A convenience view for spreadsheet users, with what each of its columns means."""

    name: str
    comment: str
    query: str
    column_comments: tuple[tuple[str, str], ...]


VIEWS = (
    View(
        name="meter_monthly_bill",
        comment="A meter's bill per month: energy, cost to the cent, and how complete the "
        "data behind it is.",
        query="""
            SELECT m.meter_id, m.month, m.energy_kwh, round(m.cost, 2) AS cost, m.currency,
                   m.days, m.energy_kwh / NULLIF(m.days, 0) AS average_daily_kwh,
                   q.completeness, q.estimated_intervals
            FROM {schema}.meter_monthly m
            LEFT JOIN LATERAL (
                SELECT sum(c.received)::double precision / NULLIF(sum(c.expected), 0)
                           AS completeness,
                       sum(c.estimated)::bigint AS estimated_intervals
                FROM {schema}.completeness c
                WHERE c.meter_id = m.meter_id
                  AND c.day >= m.month AND c.day < m.month + interval '1 month'
            ) q ON true""",
        column_comments=(
            ("cost", "Cost of the month rounded to the cent"),
            ("average_daily_kwh", "energy_kwh / days"),
            ("completeness", "Received / expected intervals over the month's days in the mart"),
            ("estimated_intervals", "Intervals of the month filled by VEE estimation"),
        ),
    ),
    View(
        name="meter_daily_quality",
        comment="A meter's daily energy beside the completeness of the data behind it.",
        query="""
            SELECT d.meter_id, d.day, d.transformer_id, d.energy_kwh, d.cost, d.currency,
                   d.readings, d.estimated_intervals, c.expected, c.received,
                   c.completeness
            FROM {schema}.meter_daily d
            LEFT JOIN {schema}.completeness c USING (meter_id, day)""",
        column_comments=(
            ("expected", "Intervals the day should have (empty: no completeness row)"),
            ("completeness", "received / expected, from 0 to 1"),
        ),
    ),
    View(
        name="open_gaps",
        comment="Gaps that no reading has closed yet, oldest first.",
        query="""
            SELECT meter_id, start_ts, missing_intervals, detected_by
            FROM {schema}.gaps WHERE open ORDER BY start_ts, meter_id""",
        column_comments=(("start_ts", "First missing interval (UTC)"),),
    ),
    View(
        name="data_dictionary",
        comment="What each column of the mart means (the ODBC driver does not pass comments on).",
        query="""
            SELECT c.relname::text AS table_name,
                   CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS table_type,
                   a.attnum::integer AS position, a.attname::text AS column_name,
                   format_type(a.atttypid, a.atttypmod) AS data_type,
                   coalesce(col_description(c.oid, a.attnum), (
                       SELECT col_description(b.attrelid, b.attnum)
                       FROM pg_attribute b JOIN pg_class bc ON bc.oid = b.attrelid
                       WHERE bc.relnamespace = c.relnamespace AND bc.relkind = 'r'
                         AND b.attname = a.attname
                         AND col_description(b.attrelid, b.attnum) IS NOT NULL
                       ORDER BY bc.relname LIMIT 1)) AS meaning,
                   obj_description(c.oid, 'pg_class') AS table_meaning
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = {schema_name} AND c.relkind IN ('r', 'v')
            ORDER BY c.relname, a.attnum""",
        column_comments=(
            ("meaning", "What the column holds (a view's column: that of the table it comes from)"),
            ("table_meaning", "What the table or view holds"),
        ),
    ),
)


def table_statements(table: Table) -> list[sql.Composed]:
    name = sql.Identifier(SCHEMA, table.name)
    parts: list[sql.Composable] = [sql.SQL(column.ddl()) for column in table.columns]
    parts.append(sql.SQL("PRIMARY KEY ({})").format(_names(table.key)))
    parts += [sql.SQL("CHECK ({})").format(sql.SQL(check)) for check in table.checks]
    statements: list[sql.Composed] = [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(name, sql.SQL(", ").join(parts))
    ]
    for columns in table.indexes:
        index = sql.Identifier(f"{table.name}_{'_'.join(columns)}_idx")
        statements.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(index, name, _names(columns))
        )
    for column in table.columns:
        if column.nullable:  # a mart made by an earlier version may still refuse empties
            statements.append(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                    name, sql.Identifier(column.name)
                )
            )
    statements.append(_comment("TABLE", name, table.comment))
    for column in table.columns:
        target = sql.Identifier(SCHEMA, table.name, column.name)
        statements.append(_comment("COLUMN", target, column.comment))
    return statements


def view_statements(view: View) -> list[sql.Composed]:
    name = sql.Identifier(SCHEMA, view.name)
    statements: list[sql.Composed] = [
        sql.SQL("CREATE OR REPLACE VIEW {} AS {}").format(
            name,
            sql.SQL(view.query).format(
                schema=sql.Identifier(SCHEMA), schema_name=sql.Literal(SCHEMA)
            ),
        ),
        _comment("VIEW", name, view.comment),
    ]
    for column, comment in view.column_comments:
        statements.append(_comment("COLUMN", sql.Identifier(SCHEMA, view.name, column), comment))
    return statements


def ensure_schema(connection: psycopg.Connection[Any]) -> bool:
    """Create what is missing of schema, tables, indexes, comments and views; True if it ran.

    The schema's comment names the version of this DDL and is written last, so a mart
    already at this version is left alone (no DDL locks on what spreadsheet users read).
    """
    found = connection.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (SCHEMA,),
    ).fetchone()
    if found is not None and found[0] == SCHEMA_COMMENT:
        return False
    connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
    for table in TABLES:
        for statement in table_statements(table):
            connection.execute(statement)
    for view in VIEWS:
        for statement in view_statements(view):
            connection.execute(statement)
    connection.execute(_comment("SCHEMA", sql.Identifier(SCHEMA), SCHEMA_COMMENT))
    return True


def _names(columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(column) for column in columns)


def _comment(what: str, target: sql.Composable, text: str) -> sql.Composed:
    return sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(what), target, sql.Literal(text))
