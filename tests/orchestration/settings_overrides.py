"""The FLOWYARD settings the orchestration tests run with, in the test process and in the
Celery worker processes they start (through tests/orchestration/worker_settings.py): a
breaker that opens after 3 failures and half-opens after 1 s, and a reconciler that
re-sends lost wake-ups after 2 s instead of 15 s."""

BREAKER = {"enabled": True, "failure_threshold": 3, "reset_timeout": 1.0, "probe_timeout": 5.0}
FLOWYARD_OVERRIDES = {
    "BREAKER": BREAKER,
    "RECONCILE_AFTER": 2.0,
    "CALL_LEASE_GRACE": 1.0,
    "TIMER_LEASE": 2.0,
}
