"""Inbox figures on PostgreSQL: page time with 100k open tasks across 50 groups, and the
plan of the "My groups" query. Not a test (pytest does not collect it); run it against a
database of its own, which it migrates and fills once:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flowyard_inbox_perf SECRET_KEY=x \\
        .venv/bin/python tests/perf_inbox.py [--tasks 100000] [--groups 50] [--runs 30]

Data: 50 groups, 400 users each in 1-3 groups, ``--tasks`` open tasks (one instance each)
spread over the groups (every 10th task names two groups, 1% are open to all), plus as
many completed tasks again so the state filter has something to skip. Priorities 0-100,
half with a due date from 3 days ago to 3 weeks ahead.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FLOWYARD_TESTING", "0")


def seed(n_tasks: int, n_groups: int) -> None:
    import datetime as dt

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone

    from designer.services import version_deploy
    from runtime.models import HumanTask, ProcessInstance, TaskCandidateGroup

    if HumanTask.objects.filter(state="open").count() >= n_tasks:
        seed_tiny()
        return
    print(f"seeding {n_tasks} open tasks over {n_groups} groups ...", flush=True)
    rnd = random.Random(7)
    started = time.monotonic()
    version = version_deploy(xml=(ROOT / "tests/data/loan_approval.bpmn").read_text(), accept_warnings=True).version
    with transaction.atomic():
        groups = Group.objects.bulk_create([Group(name=f"team-{i:02d}") for i in range(n_groups)])
        password = make_password("pw")
        users = User.objects.bulk_create([User(username=f"user{i:03d}", password=password) for i in range(400)])
        Through = User.groups.through
        Through.objects.bulk_create([Through(user_id=u.pk, group_id=g.pk) for u in users
                                     for g in rnd.sample(groups, rnd.randint(1, 3))])
    now = timezone.now()
    batch = 5000
    for state, count in (("open", n_tasks), ("completed", n_tasks)):
        for start in range(0, count, batch):
            size = min(batch, count - start)
            with transaction.atomic():
                instances = ProcessInstance.objects.bulk_create([
                    ProcessInstance(version=version, business_key=f"L-{state[0]}{start + i}", variables={"amount": 1000 + i},
                                    status="running" if state == "open" else "completed")
                    for i in range(size)])
                tasks = HumanTask.objects.bulk_create([
                    HumanTask(instance=inst, wait_id="w1", token_id="t1", node_id="Task_review",
                              name=rnd.choice(["Review application", "Check documents", "Approve payout", "Call customer"]),
                              open_to_all=rnd.random() < 0.01, priority=rnd.randint(0, 100), state=state,
                              due_at=now + dt.timedelta(hours=rnd.randint(-72, 500)) if rnd.random() < 0.5 else None,
                              created_at=now - dt.timedelta(seconds=rnd.randint(0, 90 * 86400)),
                              completed_by=rnd.choice(users) if state == "completed" else None,
                              completed_at=now if state == "completed" else None)
                    for inst in instances])
                links = []
                for task in tasks:
                    if task.open_to_all:
                        continue
                    for g in rnd.sample(groups, 2 if rnd.random() < 0.1 else 1):
                        links.append(TaskCandidateGroup(task=task, group=g))
                TaskCandidateGroup.objects.bulk_create(links)
            print(f"  {state} {start + size}/{count}", end="\r", flush=True)
        print()
    seed_tiny()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does on a live system; enables index-only scans
    print(f"seeded in {time.monotonic() - started:.0f}s")


def seed_tiny() -> None:
    """The worst case of an ordered index walk: a user whose only group has 5 open tasks,
    so "My groups" must pass every open task to fill a page."""
    from django.contrib.auth.models import Group, User

    from runtime.models import HumanTask, TaskCandidateGroup

    if Group.objects.filter(name="team-tiny").exists():
        return
    tiny = Group.objects.create(name="team-tiny")
    User.objects.create_user("tiny", password="pw").groups.add(tiny)
    for task in HumanTask.objects.filter(state="open").order_by("id")[:5]:
        TaskCandidateGroup.objects.create(task=task, group=tiny)


def measure(runs: int) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    from runtime import inbox

    def timed(client, url: str) -> tuple[float, float, int]:
        client.get(url)  # warm caches (templates, plans)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(samples)

    # The user with the most group tasks (and one with the fewest) bound the range.
    by_load = []
    for user in User.objects.filter(username__startswith="user")[:400]:
        n = inbox.tab_queryset(user=user, tab="groups").count()
        by_load.append((n, user))
    by_load.sort(key=lambda x: x[0])
    tiny = User.objects.get(username="tiny")
    cases = [("heaviest", by_load[-1]), ("lightest", by_load[0]),
             ("tiny group", (inbox.tab_queryset(user=tiny, tab="groups").count(), tiny))]
    for label, (n, user) in cases:
        client = Client()
        client.force_login(user)
        groups = list(user.groups.values_list("name", flat=True))
        print(f"\n{label} user {user.username}: groups {groups}, {n} open group tasks")
        page = inbox.inbox_page(user=user, query=inbox.InboxQuery(tab="groups"))
        deep = page
        for _ in range(20):  # walk 20 pages deep with the cursor
            deep = inbox.inbox_page(user=user, query=inbox.InboxQuery(tab="groups", after=deep.next_cursor))
        urls = {
            "groups, priority, page 1": "/inbox/?tab=groups",
            "groups, priority, page 21": f"/inbox/?tab=groups&after={deep.next_cursor}",
            "groups, due date": "/inbox/?tab=groups&sort=due",
            "groups, newest": "/inbox/?tab=groups&sort=created",
            "groups, search 'payout'": "/inbox/?tab=groups&q=payout",
            "groups, process filter": "/inbox/?tab=groups&process=loan_approval",
            "mine": "/inbox/?tab=mine",
            "done by me": "/inbox/?tab=done",
            "rows partial (live re-sync)": "/inbox/rows/?tab=groups",
            "badge count": "/inbox/count/",
        }
        for name, url in urls.items():
            median, p95, count = timed(client, url)
            print(f"  {name:32s} median {median:6.1f} ms  p95 {p95:6.1f} ms")
        for sort in ("priority", "due", "created"):
            qs = inbox.tab_queryset(user=user, tab="groups").order_by(*inbox.order_by(inbox.ORDERS[sort]))[:26]
            plan = qs.explain(analyze=True, buffers=True)
            if sort == "priority" or "--plans" in sys.argv:
                print(f"\n  EXPLAIN ANALYZE, My groups by {sort}, page 1:")
                print("    " + plan.replace("\n", "\n    "))
            else:
                print(f"  SQL only, by {sort}: {plan.splitlines()[-1].strip()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--plans", action="store_true", help="print every plan, not only the priority one")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or "postgres" not in os.environ["DATABASE_URL"]:
        sys.exit("set DATABASE_URL to a PostgreSQL database of its own")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    seed(args.tasks, args.groups)
    measure(args.runs)


if __name__ == "__main__":
    main()
