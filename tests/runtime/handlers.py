"""Python connector handlers the runtime tests allow-list (FLOWYARD['PYTHON_HANDLERS'])."""
from runtime.connectors import BusinessError, RetryableError

CALLS: list[tuple[dict, str]] = []
FAILURES = {"left": 0}


def ok(inputs, *, idempotency_key):
    CALLS.append((inputs, idempotency_key))
    return {"doubled": inputs.get("n", 0) * 2}


def flaky(inputs, *, idempotency_key):
    CALLS.append((inputs, idempotency_key))
    if FAILURES["left"] > 0:
        FAILURES["left"] -= 1
        raise RetryableError("try later")
    return "finally"


def refuse(inputs, *, idempotency_key):
    CALLS.append((inputs, idempotency_key))
    raise BusinessError("NOPE", "refused")


def suspend_own_instance(inputs, *, idempotency_key):
    """An operator suspends the instance while its call is in flight."""
    from runtime import services

    CALLS.append((inputs, idempotency_key))
    services.instance_suspend(instance=int(idempotency_key.split(":")[0]))
    return "answered"
