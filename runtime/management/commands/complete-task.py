"""python manage.py complete-task ID [--var k=v ...] --user U"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from runtime import services
from runtime.management.commands._vars import get_user, parse_vars


class Command(BaseCommand):
    help = "Complete a human task as a user, with form values."

    def add_arguments(self, parser):
        parser.add_argument("task_id", type=int)
        parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="form value; JSON values parse")
        parser.add_argument("--user", required=True, help="username completing the task")

    def handle(self, *args, **opts):
        try:
            task = services.task_complete(task=opts["task_id"], user=get_user(opts["user"]), variables=parse_vars(opts["var"]))
        except services.TaskFormInvalid as exc:
            lines = [f"  {key}: {' '.join(msgs)}" for key, msgs in exc.errors.items()]
            raise CommandError("the form is not valid:\n" + "\n".join(lines)) from None
        except services.RuntimeServiceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"task {task.pk} {task.state}")
