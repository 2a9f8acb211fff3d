"""PostgreSQL for the bench: server URL, per-system databases, and the hardware limit.

The limit is what one insert plus one update per transaction reaches on this server, with 1
and 16 clients: pgbench with a custom script when installed, else psycopg in processes.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from multiprocessing import get_context
from urllib.parse import urlsplit, urlunsplit

#: The server; each system gets its own database on it (never the developer's ``flowyard``).
SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
LIMIT_ROWS = 100_000


def db_url(name: str, server_url: str = SERVER_URL) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, **kwargs)


def available(url: str = SERVER_URL) -> str:
    """Empty when the server answers, else why not."""
    try:
        with connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
        return ""
    except Exception as exc:
        return f"PostgreSQL not reachable at {url}: {type(exc).__name__}: {exc}".strip()


def server_version(url: str = SERVER_URL) -> str:
    try:
        with connect(url, connect_timeout=3) as conn:
            return conn.execute("show server_version").fetchone()[0]
    except Exception:
        return "unavailable"


def ensure_database(name: str, *, recreate: bool = False, server_url: str = SERVER_URL) -> str:
    """Create database ``name`` (dropping it first when ``recreate``); return its URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"unsafe database name {name!r}")
    with connect(server_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if exists and recreate:
            conn.execute(f'drop database "{name}" with (force)')
            exists = None
        if not exists:
            conn.execute(f'create database "{name}"')
    return db_url(name, server_url)


def clone_database(name: str, template: str, *, server_url: str = SERVER_URL) -> str:
    """Recreate ``name`` as a copy of ``template`` (a file copy on the server: well under a
    second, where migrating a fresh database takes several)."""
    for db in (name, template):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", db):
            raise ValueError(f"unsafe database name {db!r}")
    with connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}" template "{template}"')
    return db_url(name, server_url)


def database_comment(name: str, server_url: str = SERVER_URL) -> str | None:
    """The comment on database ``name`` (None when it does not exist)."""
    with connect(server_url, autocommit=True) as conn:
        row = conn.execute("select coalesce(shobj_description(oid, 'pg_database'), '') from pg_database "
                           "where datname = %s", [name]).fetchone()
    return None if row is None else row[0]


def set_database_comment(name: str, comment: str, server_url: str = SERVER_URL) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not re.fullmatch(r"[0-9a-z-]+", comment):
        raise ValueError("unsafe database name or comment")
    with connect(server_url, autocommit=True) as conn:
        conn.execute(f"comment on database \"{name}\" is '{comment}'")


STAT_COLUMNS = ["xact_commit", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched", "sessions"]


def xact_stats(url: str) -> dict:
    """Committed transactions, row writes and sessions opened (``sessions``: PostgreSQL 14
    and newer, counting this query's own) of the database so far (pg_stat_database)."""
    with connect(url, autocommit=True) as conn:
        has_sessions = conn.info.server_version >= 140000
        columns = STAT_COLUMNS if has_sessions else STAT_COLUMNS[:-1]
        row = conn.execute(f"select {', '.join(columns)} from pg_stat_database "
                           "where datname = current_database()").fetchone()
    return dict(zip(columns, row))


# --- the limit ---------------------------------------------------------------------------

_SCRIPT = """\\set aid random(1, {rows})
BEGIN;
INSERT INTO bench_limit_history (account_id, delta) VALUES (:aid, 1);
UPDATE bench_limit_accounts SET balance = balance + 1 WHERE id = :aid;
END;
"""


def limit_prepare(url: str) -> None:
    with connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_limit_history, bench_limit_accounts")
        conn.execute("create table bench_limit_accounts (id int primary key, balance bigint not null default 0)")
        conn.execute("create table bench_limit_history (id bigserial primary key, account_id int not null, "
                     "delta int not null, at timestamptz not null default now())")
        conn.execute("insert into bench_limit_accounts (id) select generate_series(1, %s)", [LIMIT_ROWS])
        conn.execute("vacuum analyze bench_limit_accounts")


def limit_pgbench(url: str, clients: int, seconds: float) -> float:
    """tps of the insert+update script via pgbench; raises when pgbench is missing or fails."""
    exe = shutil.which("pgbench")
    if not exe:
        raise FileNotFoundError("pgbench not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(_SCRIPT.format(rows=LIMIT_ROWS))
    try:
        out = subprocess.run(
            [exe, "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
             "-T", str(max(1, round(seconds))), "-f", script.name, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out) or re.search(r"tps = ([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"cannot read tps from pgbench output: {out[-500:]}")
    return float(match.group(1))


def _psycopg_client(url: str, seconds: float, start_at: float, seed: int, out) -> None:
    import random

    rng = random.Random(seed)
    count = 0
    with connect(url) as conn:
        while time.time() < start_at:
            time.sleep(0.001)
        end = time.time() + seconds
        while time.time() < end:
            aid = rng.randint(1, LIMIT_ROWS)
            with conn.transaction():
                conn.execute("insert into bench_limit_history (account_id, delta) values (%s, 1)", [aid])
                conn.execute("update bench_limit_accounts set balance = balance + 1 where id = %s", [aid])
            count += 1
    out.put(count)


def limit_psycopg(url: str, clients: int, seconds: float) -> float:
    """Fallback without pgbench: one process per client (threads would measure the GIL)."""
    ctx = get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 1.5 + 0.05 * clients
    procs = [ctx.Process(target=_psycopg_client, args=(url, seconds, start_at, i, queue)) for i in range(clients)]
    for p in procs:
        p.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join(timeout=10)
    return total / seconds


def limit_tps(url: str, clients: int, seconds: float) -> tuple[float, str]:
    """(tps, tool) for ``clients`` clients; prefers pgbench, falls back to psycopg."""
    try:
        return limit_pgbench(url, clients, seconds), "pgbench"
    except (FileNotFoundError, subprocess.CalledProcessError, RuntimeError):
        return limit_psycopg(url, clients, seconds), "psycopg"
