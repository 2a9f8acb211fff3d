#!/usr/bin/env python3
"""Black-box check of a running Flowyard through its REST API only (no Django imports).

Deploys tests/data/loan_approval.bpmn (user task with a form) and quote_race.bpmn (message
with a correlation key), starts N loan instances, claims and completes every review task
(half approved, half rejected), correlates a quote message to a waiting instance, and checks
each instance's final state and history. Exit status 0 when everything held.

    python tests/blackbox/run_blackbox.py --base-url http://127.0.0.1:8000 --token <key> [--count 50]

The token's user must be allowed to deploy (staff) and to work loan-officers' tasks
(a superuser, or a staff member of the loan-officers group).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

DATA = Path(__file__).resolve().parents[1] / "data"


class Failed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


class Api:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                   headers={"Authorization": f"Token {token}", "Accept": "application/json"})

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs) -> dict:
        response = self.client.request(method, path, **kwargs)
        check(response.status_code in expect,
              f"{method} {path}: expected {expect}, got {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else {}

    def pages(self, path: str, **params) -> list[dict]:
        rows, offset = [], 0
        while True:
            page = self.call("GET", path, params={**params, "limit": 500, "offset": offset})
            rows += page["results"]
            if not page["next"]:
                return rows
            offset += len(page["results"])


def deploy(api: Api) -> None:
    loan = (DATA / "loan_approval.bpmn").read_bytes()
    first = api.call("POST", "/api/processes/deploy/", expect=(200, 201),
                     files={"file": ("loan_approval.bpmn", loan, "application/xml")})
    check(first["key"] == "loan_approval" and first["version"] >= 1, f"deploy answered {first}")
    again = api.call("POST", "/api/processes/deploy/", expect=(200,), json={"xml": loan.decode()})
    check(again["id"] == first["id"] and again["created"] is False, "identical XML must answer the same version")
    quote = api.call("POST", "/api/processes/deploy/", expect=(200, 201),
                     json={"xml": (DATA / "quote_race.bpmn").read_text()})
    check(quote["key"] == "quote_race", f"deploy answered {quote}")
    bad = api.client.post("/api/processes/deploy/", json={"xml": "<not-bpmn/>"})
    check(bad.status_code == 400 and bad.json()["errors"], "broken XML must be refused with findings")
    keys = {p["key"] for p in api.pages("/api/processes/")}
    check({"loan_approval", "quote_race"} <= keys, f"processes listed: {sorted(keys)}")


def run_loans(api: Api, count: int, run: str, workers: int) -> dict:
    def start(i: int) -> dict:
        body = {"process": "loan_approval", "business_key": f"{run}-{i}",
                "variables": {"amount": 1000 + i * 10, "income": 2000, "applicant": f"applicant {i}"}}
        started = api.call("POST", "/api/instances/", expect=(201,), json=body)
        check(started["status"] == "running" and started["tokens"][0]["node"] == "Task_review",
              f"instance {i} should wait at the review: {started}")
        return started

    with ThreadPoolExecutor(workers) as pool:
        instances = list(pool.map(start, range(count)))
    by_id = {i["id"]: i for i in instances}
    tasks = [t for t in api.pages("/api/tasks/", process="loan_approval", state="open") if t["instance"] in by_id]
    check(len(tasks) == count, f"expected {count} open review tasks, found {len(tasks)}")

    def work(task: dict) -> None:
        check(task["form"][0]["key"] == "decision", f"task form: {task['form']}")
        claimed = api.call("POST", f"/api/tasks/{task['id']}/claim/")
        check(claimed["state"] == "claimed", f"claim: {claimed}")
        bad = api.client.post(f"/api/tasks/{task['id']}/complete/", json={"variables": {"decision": "perhaps"}})
        check(bad.status_code == 400 and bad.json()["errors"][0]["field"] == "decision", f"bad form: {bad.text}")
        index = int(by_id[task["instance"]]["business_key"].rsplit("-", 1)[1])
        decision = "approve" if index % 2 == 0 else "reject"
        done = api.call("POST", f"/api/tasks/{task['id']}/complete/", json={"variables": {"decision": decision}})
        check(done["state"] == "completed", f"complete: {done}")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, tasks))

    deadline = time.monotonic() + 60
    while True:
        finals = {i["id"]: i for i in api.pages("/api/instances/", process="loan_approval") if i["id"] in by_id}
        if all(i["status"] == "completed" for i in finals.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    statuses = {i["status"] for i in finals.values()}
    check(len(finals) == count and statuses == {"completed"}, f"final statuses: {statuses}")
    approved = sum(1 for i in finals.values() if i["variables"]["decision"] == "approve")
    check(approved == (count + 1) // 2, f"{approved} approved of {count}")
    sample = next(iter(finals))
    history = api.call("GET", f"/api/instances/{sample}/history/")["results"]
    check([e["seq"] for e in history] == sorted(e["seq"] for e in history), "history must be ordered")
    check(history[-1]["to_state"] == "completed" or any(e["to_state"] == "completed" for e in history),
          "history must record the completion")
    return {"instances": count, "approved": approved, "rejected": count - approved}


def run_quote(api: Api, run: str) -> dict:
    request_id = f"{run}-quote"
    started = api.call("POST", "/api/instances/", expect=(201,),
                       json={"process": "quote_race", "variables": {"request_id": request_id}})
    miss = api.client.post("/api/messages/", json={"name": "quote_received", "correlation_key": f"{request_id}-other"})
    check(miss.status_code == 404, f"a message nobody waits for must be a 404, got {miss.status_code}")
    hit = api.call("POST", "/api/messages/", json={"name": "quote_received", "correlation_key": request_id,
                                                   "variables": {"price": 980}})
    check([m["id"] for m in hit["matched"]] == [started["id"]], f"correlation matched {hit}")
    tasks = api.pages("/api/tasks/", mine="1", instance=started["id"])
    check(len(tasks) == 1 and tasks[0]["node"] == "Task_compare", f"compare task: {tasks}")
    api.call("POST", f"/api/tasks/{tasks[0]['id']}/complete/", json={"variables": {"accept": True}})
    final = api.call("GET", f"/api/instances/{started['id']}/")
    check(final["status"] == "completed" and final["variables"]["price"] == 980, f"quote instance: {final}")
    return {"quote_instance": started["id"], "status": final["status"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("FLOWYARD_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("FLOWYARD_TOKEN", ""))
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or FLOWYARD_TOKEN) is required")
    api = Api(args.base_url, args.token)
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()
    try:
        deploy(api)
        report = {"run": run, **run_loans(api, args.count, run, args.workers), **run_quote(api, run)}
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    report["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
