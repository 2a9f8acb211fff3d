"""Partial indexes for the inbox's "Due date" and "Newest" sorts and its "Done by me" tab.

Each sort walks its index in order and stops after one page (keyset pagination), so the
page costs the same with 100k open tasks as with 100. Partial (``WHERE state = ...``) so
they hold only the rows those tabs read, not the growing tail of finished tasks.

Raw SQL on purpose, with no state operations: the indexes are a storage detail of the
inbox queries (runtime/inbox.py) and the model state stays exactly runtime/models.py.
Both SQLite and PostgreSQL accept this syntax.
"""
from django.db import migrations

INDEXES = {
    "inbox_open_due": "runtime_humantask (due_at, id) WHERE state = 'open'",
    "inbox_open_created": "runtime_humantask (created_at DESC, id DESC) WHERE state = 'open'",
    "inbox_done_by": "runtime_humantask (completed_by_id, completed_at DESC, id DESC) WHERE state = 'completed'",
}


class Migration(migrations.Migration):
    dependencies = [("runtime", "0002_engine_rows")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {spec}", f"DROP INDEX IF EXISTS {name}")
        for name, spec in INDEXES.items()
    ]
