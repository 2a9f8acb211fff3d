"""Run the benchmarks side by side and write ``bench/RESULTS.md`` and ``bench/results.json``.

    python -m bench.run --quick                  # well under a minute: CI smoke, small samples
    python -m bench.run --full                   # several minutes: the figures to quote
    python -m bench.run --quick --only straight10,service10 --systems flowyard,spiff

No thresholds are asserted anywhere; goals are reported next to the figures.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import time
from pathlib import Path

from bench import pg, report
from bench.machine import machine_facts
from bench.references import References
from bench.scenarios import FULL, QUICK, SCENARIOS, Bench

BENCH_DIR = Path(__file__).resolve().parent


def _csv(value: str, allowed) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = sorted(set(items) - set(allowed))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return items


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small samples, well under a minute (default)")
    mode.add_argument("--full", action="store_true", help="full sizes, several minutes")
    parser.add_argument("--only", type=lambda v: _csv(v, SCENARIOS), default=SCENARIOS,
                        help=f"comma-separated scenarios: {','.join(SCENARIOS)}")
    parser.add_argument("--systems", type=lambda v: _csv(v, References.SYSTEMS), default=list(References.SYSTEMS),
                        help=f"comma-separated systems: {','.join(References.SYSTEMS)}")
    parser.add_argument("--n", type=int, default=0, help="override every sample size (smoke tests)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR, help="directory for RESULTS.md and results.json")
    return parser.parse_args(argv)


def sizes_for(args: argparse.Namespace):
    sizes = FULL if args.full else QUICK
    if args.n:
        n = args.n
        sizes = dataclasses.replace(sizes, spiff_memory=n, per_process=n, flowyard_starts=n, service_instances=n,
                                    latency_samples=n, celery_tasks=n, celery_round_trips=n, pg_seconds=1,
                                    history_instances=n, history_batch=n,
                                    human_samples=max(3, n))
    return sizes


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    sizes = sizes_for(args)
    began = time.monotonic()
    load_start = round(os.getloadavg()[0], 2)
    mode = "full" if args.full else "quick"
    print(f"bench: {mode} mode, scenarios {','.join(args.only)}, systems {','.join(args.systems)}")
    bench = Bench(sizes, systems=tuple(args.systems))
    bench.run(args.only)
    rows = report.compare(bench.results)
    notes = dict(bench.notes)
    notes["errors"] = [{**e, "traceback": e["traceback"][-2000:]} for e in notes.get("errors", [])]
    run = {
        "command": "python -m bench.run " + " ".join(argv),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "seconds": round(time.monotonic() - began, 1),
        "machine": {**machine_facts(pg.server_version() if not bench.pg_problem else "unavailable"),
                    "load_avg_1m_start": load_start},
        "sizes": dataclasses.asdict(sizes),
        "scenarios": args.only,
        "systems": args.systems,
        "measurements": [m.as_dict() for m in bench.results.values()],
        "comparisons": rows,
        "goals": report.goals(bench.results, rows),
        "notes": notes,
    }
    md, js = report.write(run, args.out)
    print(f"bench: wrote {md} and {js} in {run['seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
