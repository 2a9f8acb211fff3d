"""Create the demo users and groups and deploy the demo processes (embedded default only)."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

DEMO_DIR = Path(settings.BASE_DIR) / "designer" / "demo"

# username, groups, is_superuser; the password is the username (demo only).
DEMO_USERS = [
    ("admin", [], True),
    ("alice", ["sales"], False),
    ("bob", ["finance"], False),
    ("carol", ["risk"], False),
    ("dave", ["sales", "finance"], False),
]


class Command(BaseCommand):
    help = "Create demo users/groups and deploy the demo processes. Refused in service mode."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="also run in service mode")

    def handle(self, *args, force=False, **options):
        if settings.SERVICE_MODE and not force:
            raise CommandError("load_demo creates users with known passwords; it runs only in the embedded default (use --force to override)")
        for name in ("sales", "finance", "risk"):
            Group.objects.get_or_create(name=name)
        for username, groups, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            if created:
                user.set_password(username)
            user.is_staff = user.is_superuser = superuser
            user.save()
            user.groups.set(Group.objects.filter(name__in=groups))
        deployed = self._deploy_demo_processes()
        self.stdout.write(self.style.SUCCESS("Demo users (password = username):"))
        for username, groups, superuser in DEMO_USERS:
            role = "superuser" if superuser else "groups: " + ", ".join(groups)
            self.stdout.write(f"  {username:<6} / {username:<6} ({role})")
        for line in deployed:
            self.stdout.write(f"  process {line}")

    def _deploy_demo_processes(self) -> list[str]:
        from designer.services import version_deploy

        admin = User.objects.get(username="admin")
        lines = []
        for path in sorted(DEMO_DIR.glob("*.bpmn")):
            result = version_deploy(xml=path.read_text(encoding="utf-8"), user=admin, accept_warnings=True)
            lines.append(f"{result.version.definition.key} v{result.version.number} ({path.name})")
        return lines
