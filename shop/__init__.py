"""A bundled demo shop: fake inventory, payment, shipping and order services.

The order saga in the demos calls these over real HTTP, so retries, idempotency keys,
circuit breakers and compensation can be watched end to end without any outside system.
They are CSRF-exempt and need no login: they stand for *other* companies' services.

Endpoints, all JSON, under ``/shop/api/`` (every operation needs ``order_id``):

==============================  ======================================  ====================
POST inventory/reserve          ``{"order_id", "items": [{sku, qty}]}``  409 OUT_OF_STOCK if qty > 100
POST inventory/release          ``{"order_id"}``                         always 200
POST payments/charge            ``{"order_id", "amount"}``               402 CARD_DECLINED if amount > 5000
POST payments/refund            ``{"order_id"}``                         409 NOTHING_TO_REFUND without a charge
POST shipping/ship              ``{"order_id", "address"}``              422 ADDRESS_MISSING
POST orders/cancel              ``{"order_id"}``                         always 200
GET  calls/?order_id=&operation=&key=&limit=   the call log, the effects, counts per operation
GET/POST/DELETE faults/         failure plans (below)
POST reset/                     forget calls, effects and fault plans
==============================  ======================================  ====================

Idempotency: an ``Idempotency-Key`` header makes a call's effect happen once per
(operation, key). A repeated key gets the first answer again, with the header
``Idempotent-Replayed: true``, and appears in the log as a ``replay`` call; the effect
table's unique constraint guarantees it even for concurrent duplicates. Refusals (4xx)
and injected faults do nothing, so a retry with the same key may still succeed. Calls
without a key are each their own effect.

Failure injection, checked before idempotency (a service that is down is down for
every key):

* per call: ``?fail=503`` or ``{"fail": "402"}`` in the body answers that status;
  ``{"delay": 2.5}`` waits first (for timeouts);
* per operation: ``POST faults/ {"operation": "payments/charge", "status": 503,
  "count": 2}`` fails the next 2 calls (``count`` omitted: until cleared);
  ``"operation": "*"`` fails every operation (a dead shop); ``"delay": 3`` slows calls
  (``"status": 0`` for a delay alone); ``"after_effect": true`` performs the effect and
  then fails, a lost response the next retry's key must not repeat;
  ``{"operation": ..., "clear": true}`` or ``DELETE faults/`` removes plans.

Install: ``"shop"`` in INSTALLED_APPS and ``path("shop/", include("shop.urls"))``.
"""
