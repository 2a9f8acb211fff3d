"""The two topologies come from the environment alone."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
    "from django.conf import settings as s;"
    "print(s.SERVICE_MODE, s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
    " s.CELERY_BROKER_URL, s.FLOWYARD['EMBEDDED_WORKER'], s.DEBUG)"
)


def _probe(**env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_DEBUG"}}
    base.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", PROBE], env=base, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_no_urls_means_embedded_sqlite_inmemory_worker():
    out = _probe()
    assert out.returncode == 0, out.stderr
    service, engine, layer, broker, worker, debug = out.stdout.split()
    assert (service, engine, broker, worker, debug) == ("False", "django.db.backends.sqlite3", "memory://localhost/", "True", "False")
    assert layer.endswith("InMemoryChannelLayer")


def test_urls_mean_postgres_redis_and_separate_workers():
    out = _probe(DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0", SECRET_KEY="s")
    assert out.returncode == 0, out.stderr
    service, engine, layer, broker, worker, _ = out.stdout.split()
    assert (service, engine, broker, worker) == ("True", "django.db.backends.postgresql", "redis://127.0.0.1:6379/0", "False")
    assert layer.endswith("RedisChannelLayer")


POOL_PROBE = (
    "import sys; sys.argv[0] = {argv0!r}; sys.argv[1:] = {args!r};"
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
    "from django.conf import settings as s; d = s.DATABASES['default'];"
    "print(d['OPTIONS'].get('pool', {{}}).get('max_size'), d['CONN_MAX_AGE'])"
)


def test_in_service_mode_the_web_server_pools_connections_and_workers_keep_theirs():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DB_POOL_MAX", "DB_CONN_MAX_AGE"}}
    env.update(DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0", SECRET_KEY="s",
               PYTHONPATH=str(ROOT))

    def probe(argv0, *args):
        out = subprocess.run([sys.executable, "-c", POOL_PROBE.format(argv0=argv0, args=list(args))], env=env,
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    assert probe("/venv/bin/daphne", "config.asgi:application") == ["8", "0"]
    assert probe("/venv/bin/celery", "-A", "config", "worker") == ["None", "300"]
    assert probe("manage.py", "migrate") == ["None", "0"]


def test_service_mode_refuses_to_start_without_secret_key():
    out = _probe(DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0")
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_sqlite_runs_in_wal_mode(db):
    from django.db import connection

    import pytest

    if connection.vendor != "sqlite" or connection.settings_dict["TEST"].get("NAME") is None:
        pytest.skip("WAL applies to a file-based SQLite database")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
