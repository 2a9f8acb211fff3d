"""Who may call what, as DRF policies. Each asks one question and defers to the rule the
pages already use, so the API and the UI can never disagree:

- reading: every signed-in user; *which* rows they see is the UI's visibility rule
  (runtime.monitoring.visibility for instances, the inbox's for tasks), and a row they may
  not see answers 404 so ids do not leak;
- acting on tasks and instances: the services decide (runtime.permissions) and raise
  PermissionDenied, which the API answers with 403;
- deploying: staff, or holders of ``designer.add_processversion``.
"""
from __future__ import annotations

from rest_framework.permissions import BasePermission

DEPLOY_PERMISSION = "designer.add_processversion"


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


class CanDeploy(BasePermission):
    message = f"deploying needs staff status or the {DEPLOY_PERMISSION} permission"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return _active(user) and (user.is_staff or user.has_perm(DEPLOY_PERMISSION))


class ManagesWebhooks(BasePermission):
    """Webhooks carry instance data to any URL: staff, or the webhook model permissions."""

    message = "managing webhooks needs staff status or the webhooks model permissions"
    ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
               "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not _active(user):
            return False
        action = self.ACTIONS.get(request.method, "change")
        return user.is_staff or user.has_perm(f"webhooks.{action}_webhook")
