"""python manage.py start KEY [--process-version N] [--var k=v ...] [--business-key X] [--user U]"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from runtime import services
from runtime.management.commands._vars import get_user, parse_vars


class Command(BaseCommand):
    help = "Start an instance of a deployed process (latest version unless --process-version)."

    def add_arguments(self, parser):
        parser.add_argument("key", help="process key (BPMN process id)")
        parser.add_argument("--process-version", type=int, dest="process_version", help="version number (default: latest)")
        parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="start variable; JSON values parse")
        parser.add_argument("--business-key", default="", help="business key of the instance")
        parser.add_argument("--user", help="username to start as (the 'initiator')")

    def handle(self, *args, **opts):
        try:
            instance = services.instance_start(process_key=opts["key"], version=opts["process_version"],
                                               variables=parse_vars(opts["var"]), business_key=opts["business_key"],
                                               user=get_user(opts["user"]))
        except services.RuntimeServiceError as exc:
            raise CommandError(str(exc)) from None
        instance.refresh_from_db()
        self.stdout.write(f"instance {instance.pk} {instance.status}"
                          + (" (incident)" if instance.has_incident else ""))
