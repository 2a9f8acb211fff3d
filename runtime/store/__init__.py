"""The store: the only ORM code of the engine.

It loads an instance under a row lock, runs the pure core (runtime.engine) to the next
wait state, and writes state, token rows, wait rows and history in the caller's
transaction; wake-ups and live pushes leave only after commit. Services use it like::

    with transaction.atomic():
        uow = UnitOfWork(actor=user.get_username())
        instance = uow.lock(instance_id)
        uow.feed(instance, events.TaskCompleted(wait_id=..., variables=...))
        uow.commit()
"""
from runtime.store.events import describe, event_from_dict, event_to_dict
from runtime.store.graphs import graph_for
from runtime.store.rows import correlation_value
from runtime.store.unit import FeedOutcome, UnitOfWork, lock_instance

__all__ = ["FeedOutcome", "UnitOfWork", "correlation_value", "describe", "event_from_dict", "event_to_dict",
           "graph_for", "lock_instance"]
