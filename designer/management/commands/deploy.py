"""`python manage.py deploy FILE...`: validate, compile and deploy BPMN files."""
from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from designer.services import DeployError, version_deploy


class Command(BaseCommand):
    help = "Deploy BPMN files as new process versions; prints key, version and warnings."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="BPMN 2.0 XML files")
        parser.add_argument("--accept-warnings", action="store_true", help="deploy even when there are warnings")
        parser.add_argument("--user", help="record this user as the deployer")

    def handle(self, *args, files, accept_warnings=False, user=None, **options):
        deployer = None
        if user:
            try:
                deployer = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {user!r}") from None
        failed = 0
        for name in files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                self.stderr.write(f"{name}: cannot read: {exc.strerror}")
                failed += 1
                continue
            try:
                result = version_deploy(xml=data, user=deployer, accept_warnings=accept_warnings)
            except DeployError as exc:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{name}: not deployed"))
                for finding in exc.findings:
                    self.stderr.write(f"  {finding}")
                    if finding.hint:
                        self.stderr.write(f"    hint: {finding.hint}")
                if exc.findings and all(f.severity != "error" for f in exc.findings):
                    self.stderr.write("  (only warnings: pass --accept-warnings to deploy anyway)")
                continue
            version = result.version
            state = "deployed" if result.created else "unchanged, identical to"
            self.stdout.write(f"{name}: {state} {version.definition.key} v{version.number}")
            for warning in result.warnings:
                self.stdout.write(f"  warning {warning['code']} [{warning['element']}]: {warning['message']}")
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) not deployed")
