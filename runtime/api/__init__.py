"""The REST API (DESIGN.md's contract), mounted at ``/api/``; schema at ``/api/schema/``.

One module per concern, as DRF itself is laid out: ``errors`` (the one error body),
``fields`` and ``serializers`` (request and response shapes), ``permissions``, ``filters``,
``schema`` (OpenAPI responses and examples), ``processes`` and ``views`` (the endpoints),
``webhooks`` (subscriptions), ``urls``.
"""
