"""Fill the Flowyard bench database with completed instances and their history, fast.

``history_growth`` compares throughput on an empty database with one holding a million
finished ``straight10`` instances. Running them through the engine would take an hour,
so one real completed instance is the template: its row and every row that references it
(history events, tokens, whatever the runtime writes) are cloned server-side with
``INSERT ... SELECT`` over ``generate_series``, in batches, then the tables are analysed.
Discovering the child tables from the foreign keys keeps this right as the schema grows.
"""
from __future__ import annotations

import time

from bench.flowyard_side import DONE, INSTANCE_TABLE
from bench.pg import connect

MARK = "bench-history"


def _columns(conn, table: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = current_schema() "
        "and table_name = %s and column_name <> 'id' order by ordinal_position", [table]).fetchall()
    return [r[0] for r in rows]


def _child_tables(conn) -> list[tuple[str, str]]:
    """(table, fk column) pairs referencing the instance table, itself excluded."""
    return conn.execute(
        "select c.conrelid::regclass::text, a.attname from pg_constraint c "
        "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1] "
        "where c.contype = 'f' and c.confrelid = %s::regclass and c.conrelid <> c.confrelid "
        "order by 1", [INSTANCE_TABLE]).fetchall()


def template_instance(conn, process_key: str) -> int:
    """The latest completed instance of ``process_key`` (through its version's definition)."""
    row = conn.execute(
        f"select max(i.id) from {INSTANCE_TABLE} i join designer_processversion v on v.id = i.version_id "
        "join designer_processdefinition d on d.id = v.definition_id "
        "where i.status = %s and i.business_key <> %s and d.key = %s", [DONE, MARK, process_key]).fetchone()
    if not row or row[0] is None:
        raise RuntimeError(f"no completed {process_key} instance to use as the template")
    return row[0]


def generate(url: str, count: int, *, process_key: str = "straight10", batch: int = 100_000,
             template: int | None = None) -> dict:
    """Clone ``count`` completed instances (with all their rows); return what was written."""
    start = time.monotonic()
    written: dict[str, int] = {}
    with connect(url, autocommit=True) as conn:
        template = template or template_instance(conn, process_key)
        columns = _columns(conn, INSTANCE_TABLE)
        children = [(t, fk, _columns(conn, t)) for t, fk in _child_tables(conn)]
        inst_cols = ", ".join(columns)
        inst_vals = ", ".join("%s" if c == "business_key" else f"t.{c}" for c in columns)
        done = 0
        while done < count:
            size = min(batch, count - done)
            with conn.transaction():
                low = conn.execute(f"select coalesce(max(id), 0) from {INSTANCE_TABLE}").fetchone()[0]
                conn.execute(
                    f"insert into {INSTANCE_TABLE} ({inst_cols}) select {inst_vals} "
                    f"from {INSTANCE_TABLE} t, generate_series(1, %s) where t.id = %s",
                    [MARK, size, template])
                high = conn.execute(f"select max(id) from {INSTANCE_TABLE}").fetchone()[0]
                written[INSTANCE_TABLE] = written.get(INSTANCE_TABLE, 0) + size
                for table, fk, cols in children:
                    names = ", ".join(cols)
                    values = ", ".join("i.id" if c == fk else f"c.{c}" for c in cols)
                    cur = conn.execute(
                        f"insert into {table} ({names}) select {values} from {table} c "
                        f"join {INSTANCE_TABLE} i on i.id > %s and i.id <= %s and i.business_key = %s "
                        f"where c.{fk} = %s", [low, high, MARK, template])
                    written[table] = written.get(table, 0) + max(cur.rowcount, 0)
            done += size
        for table in [INSTANCE_TABLE] + [t for t, _, _ in children]:
            conn.execute(f"vacuum analyze {table}")
        # Gigabytes just written are still dirty in shared buffers: without a checkpoint
        # here the filled-database figure competes with the checkpointer writing them out,
        # which the empty-database figure never did.
        conn.execute("checkpoint")
    return {"template": template, "rows": written, "seconds": round(time.monotonic() - start, 1)}


def completed_count(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        return conn.execute(f"select count(*) from {INSTANCE_TABLE} where status = %s", [DONE]).fetchone()[0]
