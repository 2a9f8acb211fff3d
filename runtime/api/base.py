"""What every API view shares: the one error body, and throttling before permissions."""
from __future__ import annotations

from runtime.api.errors import exception_handler


class ApiMixin:
    """Mixed into every API view (before the DRF base class).

    DRF checks permissions before throttles, so an anonymous client hammering a protected
    endpoint would get unlimited 401s (each one a token lookup). Here the throttles run
    first, once per request: anonymous clients are limited by address, token clients per user.
    """

    def get_exception_handler(self):
        return exception_handler

    def check_permissions(self, request):
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        if getattr(request, "_flowyard_throttled", False):
            return
        request._flowyard_throttled = True
        super().check_throttles(request)
