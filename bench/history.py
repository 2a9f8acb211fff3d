"""The filled database of ``history_growth``: completed instances and their history, fast.

``history_growth`` compares ``straight10`` on an empty database with one holding a million
finished ``straight10`` instances. Running them through the engine would take an hour, so
one real completed instance is the template and the rest are generated on the server:
``INSERT ... SELECT`` over ``generate_series`` crossed with the template's rows (the
instance row and every row that references it: history events, tokens, whatever the
runtime writes; the child tables are found from the foreign keys, so this stays right as
the schema grows). Ids are consecutive, timestamps are spread over the past (one instance
every ``STEP_MS``), the business key is ``MARK``.

Speed: foreign-key checks are off while loading (``session_replication_role = replica``:
the rows are generated consistent, and the checks would be one deferred trigger per row),
commits do not wait for the WAL flush, the batches are large, and the secondary indexes are
built after loading. A million instances with 35 history events each still take four to six
minutes on the shared 2-core machine (the old per-batch INSERT ... SELECT with FK triggers
took nine), so the database is generated once and kept:
its comment is a stamp (migrations hash, generator version, instance count), and a run
whose stamp matches only deletes what earlier runs added (``reset``).
"""
from __future__ import annotations

import time

from bench.flowyard_side import DONE, INSTANCE_TABLE
from bench.pg import connect

MARK = "bench-history"
#: Bump when the generated rows change shape: a stamp with another version regenerates.
GENERATOR = "g4"  # g4: history has no FK constraint, found through UNCHECKED_CHILDREN
STEP_MS = 50


def stamp(migrations: str, count: int) -> str:
    return f"{migrations}-{GENERATOR}-n{count}"


def _columns(conn, table: str) -> list[tuple[str, str]]:
    """(column, data type) of ``table`` in order, the id column excluded."""
    return conn.execute(
        "select column_name, data_type from information_schema.columns where table_schema = current_schema() "
        "and table_name = %s and column_name <> 'id' order by ordinal_position", [table]).fetchall()


#: Tables referencing the instance table without a foreign key constraint in the database
#: (runtime.models: the history, whose references are not checked at commit).
UNCHECKED_CHILDREN = [("runtime_historyevent", "instance_id")]


def child_tables(conn) -> list[tuple[str, str]]:
    """(table, fk column) pairs referencing the instance table, itself excluded: those with
    a foreign key constraint and ``UNCHECKED_CHILDREN``."""
    found = conn.execute(
        "select c.conrelid::regclass::text, a.attname from pg_constraint c "
        "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1] "
        "where c.contype = 'f' and c.confrelid = %s::regclass and c.conrelid <> c.confrelid "
        "order by 1", [INSTANCE_TABLE]).fetchall()
    return sorted(set(found) | {pair for pair in UNCHECKED_CHILDREN
                                if conn.execute("select to_regclass(%s)", [pair[0]]).fetchone()[0]})


def template_instance(conn, process_key: str) -> int:
    """The latest completed instance of ``process_key`` (through its version's definition)."""
    row = conn.execute(
        f"select max(i.id) from {INSTANCE_TABLE} i join designer_processversion v on v.id = i.version_id "
        "join designer_processdefinition d on d.id = v.definition_id "
        "where i.status = %s and i.business_key <> %s and d.key = %s", [DONE, MARK, process_key]).fetchone()
    if not row or row[0] is None:
        raise RuntimeError(f"no completed {process_key} instance to use as the template")
    return row[0]


def _shifted(column: str, data_type: str, alias: str) -> str:
    """Timestamps move back one ``STEP_MS`` per instance still to come (``g`` counts up)."""
    if data_type.startswith("timestamp"):
        return f"{alias}.{column} - (%(count)s::bigint - g) * interval '{STEP_MS} milliseconds'"
    return f"{alias}.{column}"


def _secondary_indexes(conn, table: str) -> list[tuple[str, str, str]]:
    """(name, how to drop it, how to recreate it) of ``table``'s indexes other than its primary key."""
    rows = conn.execute(
        "select x.indexrelid::regclass::text, pg_get_indexdef(x.indexrelid), c.conname, pg_get_constraintdef(c.oid) "
        "from pg_index x left join pg_constraint c on c.conindid = x.indexrelid and c.conrelid = x.indrelid "
        "where x.indrelid = %s::regclass and not x.indisprimary order by 1", [table]).fetchall()
    out = []
    for index, indexdef, constraint, condef in rows:
        if constraint:
            out.append((index, f'alter table {table} drop constraint "{constraint}"',
                        f'alter table {table} add constraint "{constraint}" {condef}'))
        else:
            out.append((index, f"drop index {index}", indexdef))
    return out


def generate(url: str, count: int, *, process_key: str = "straight10", batch: int = 100_000,
             template: int | None = None, log=None) -> dict:
    """Add ``count`` completed copies of a template instance (with all their rows)."""
    start = time.monotonic()
    written: dict[str, int] = {}
    with connect(url, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")  # no FK triggers: rows are consistent
        conn.execute("set synchronous_commit = off")
        template = template or template_instance(conn, process_key)
        columns = _columns(conn, INSTANCE_TABLE)
        children = [(t, fk, _columns(conn, t)) for t, fk in child_tables(conn)]
        children = [c for c in children
                    if conn.execute(f"select exists (select 1 from {c[0]} where {c[1]} = %s)", [template]).fetchone()[0]]
        offset = conn.execute(f"select coalesce(max(id), 0) from {INSTANCE_TABLE}").fetchone()[0]
        inst_names = ", ".join(["id"] + [c for c, _ in columns])
        inst_values = ", ".join(["%(offset)s::bigint + g"] + [
            "%(mark)s" if c == "business_key" else _shifted(c, d, "t") for c, d in columns])
        params = {"offset": offset, "mark": MARK, "count": count, "template": template}
        # Building an index once over the loaded rows beats keeping it up to date row by row
        # (200,000 instances: 45 s against 65 s); primary keys stay (ids ascend, and foreign
        # keys need them).
        indexes = [i for t in [INSTANCE_TABLE] + [c[0] for c in children] for i in _secondary_indexes(conn, t)]
        with conn.transaction():
            for _, drop, _ in indexes:
                conn.execute(drop)
        for low in range(1, count + 1, batch):
            high = min(count, low + batch - 1)
            with conn.transaction():
                conn.execute(
                    f"insert into {INSTANCE_TABLE} ({inst_names}) select {inst_values} "
                    f"from {INSTANCE_TABLE} t, generate_series(%(low)s::bigint, %(high)s::bigint) g where t.id = %(template)s",
                    {**params, "low": low, "high": high})
                written[INSTANCE_TABLE] = written.get(INSTANCE_TABLE, 0) + high - low + 1
                for table, fk, cols in children:
                    names = ", ".join(c for c, _ in cols)
                    values = ", ".join("%(offset)s::bigint + g" if c == fk else _shifted(c, d, "c") for c, d in cols)
                    cur = conn.execute(
                        f"insert into {table} ({names}) select {values} "
                        f"from generate_series(%(low)s::bigint, %(high)s::bigint) g "
                        f"cross join (select * from {table} where {fk} = %(template)s order by id) c",
                        {**params, "low": low, "high": high})
                    written[table] = written.get(table, 0) + max(cur.rowcount, 0)
            if log:
                log(f"    {high:,} of {count:,} instances ({time.monotonic() - start:.0f}s)")
        conn.execute(f"select setval(pg_get_serial_sequence('{INSTANCE_TABLE}', 'id'), "
                     f"(select max(id) from {INSTANCE_TABLE}))")
        loaded = time.monotonic()
        conn.execute("set maintenance_work_mem = '512MB'")
        for _, _, create in indexes:
            conn.execute(create)
        indexed = time.monotonic()
        for table in [INSTANCE_TABLE] + [t for t, _, _ in children]:
            conn.execute(f"vacuum (freeze, analyze) {table}")  # hint bits, visibility map, statistics
        # Gigabytes just written are still dirty in shared buffers: without a checkpoint
        # here the filled-database figure competes with the checkpointer writing them out,
        # which the empty-database figure never did.
        conn.execute("checkpoint")
    return {"template": template, "rows": written, "seconds": round(time.monotonic() - start, 1),
            "load_seconds": round(loaded - start, 1), "index_seconds": round(indexed - loaded, 1)}


def reset(url: str) -> dict:
    """Delete every instance that is not generated (earlier runs' measured ones) and their rows."""
    with connect(url, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")
        deleted = {}
        with conn.transaction():
            ids = [r[0] for r in conn.execute(
                f"select id from {INSTANCE_TABLE} where business_key <> %s", [MARK]).fetchall()]
            if ids:
                for table, fk in child_tables(conn):
                    deleted[table] = conn.execute(f"delete from {table} where {fk} = any(%s)", [ids]).rowcount
                deleted[INSTANCE_TABLE] = conn.execute(
                    f"delete from {INSTANCE_TABLE} where id = any(%s)", [ids]).rowcount
        if deleted:
            for table in deleted:
                conn.execute(f"vacuum {table}")
    return {k: v for k, v in deleted.items() if v}


def generated_count(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        return conn.execute(f"select count(*) from {INSTANCE_TABLE} where business_key = %s", [MARK]).fetchone()[0]


def generated_without_history(url: str) -> int:
    """Generated instances with no history row (a generator that missed the history table)."""
    with connect(url, autocommit=True) as conn:
        return conn.execute(
            f"select count(*) from {INSTANCE_TABLE} i where i.business_key = %s and not exists "
            "(select 1 from runtime_historyevent h where h.instance_id = i.id)", [MARK]).fetchone()[0]


def completed_count(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        return conn.execute(f"select count(*) from {INSTANCE_TABLE} where status = %s", [DONE]).fetchone()[0]
