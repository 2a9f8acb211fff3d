"""python manage.py send-message NAME [--correlation-key V] [--var k=v ...]"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from runtime import services
from runtime.management.commands._vars import parse_vars


class Command(BaseCommand):
    help = "Correlate a message to the instance waiting for it, or start a process with it."

    def add_arguments(self, parser):
        parser.add_argument("name", help="message name")
        parser.add_argument("--correlation-key", help="correlation value (JSON parses: 42 matches a number)")
        parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="payload variable")
        parser.add_argument("--business-key", default="", help="business key for an instance the message starts")

    def handle(self, *args, **opts):
        key = opts["correlation_key"]
        if key is not None:
            try:
                key = json.loads(key)
            except ValueError:
                pass
        try:
            result = services.message_correlate(name=opts["name"], correlation_key=key, variables=parse_vars(opts["var"]),
                                                business_key=opts["business_key"])
        except services.RuntimeServiceError as exc:
            raise CommandError(str(exc)) from None
        for instance in result.matched:
            self.stdout.write(f"correlated to instance {instance.pk}")
        for instance in result.started:
            self.stdout.write(f"started instance {instance.pk}")
