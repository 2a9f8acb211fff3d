"""Turn one run's measurements into ratios, goal checks, ``RESULTS.md`` and ``results.json``.

Ratios are always Flowyard ÷ reference, so for ms rows (lower is better) a ratio below 1
is good; the units column says which way is better. Goals are reported, never asserted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.machine import machine_short
from bench.measure import Measurement


@dataclass(frozen=True)
class Comparison:
    scenario: str
    flowyard: str | tuple[str, str]     # a key, or two keys whose values multiply
    reference: str
    units: str
    ref_factor: float = 1.0
    ref_label: str = ""


HIGHER, LOWER = "higher is better", "lower is better"
S10_SEQ_VS_PERSISTED = "straight10 durable, 1 process sequential vs SpiffWorkflow persisted per step"
S10_SEQ_VS_MEMORY = "straight10 durable, 1 process sequential vs SpiffWorkflow in memory"
S10_T4_VS_PERSISTED = "straight10 durable, 1 process x 4 threads vs SpiffWorkflow persisted per step"
S10_T4_VS_MEMORY = "straight10 durable, 1 process x 4 threads vs SpiffWorkflow in memory"
FJ_SEQ_VS_PERSISTED = "fork_join durable, 1 process sequential vs SpiffWorkflow persisted per step"
FJ_T4_VS_PERSISTED = "fork_join durable, 1 process x 4 threads vs SpiffWorkflow persisted per step"
SERVICE_VS_CELERY = "service10 python, 1 worker vs Celery trivial tasks/s ÷ 10"
SERVICE_HTTP_VS_CELERY = "service10 http, 1 worker vs Celery trivial tasks/s ÷ 10"
HISTORY_SCENARIO = "history_growth: straight10 on a filled database vs empty"
COMPARISONS = [
    Comparison(S10_SEQ_VS_PERSISTED, "flowyard.inproc.straight10.p1", "spiff.persisted.straight10.p1", f"inst/s, {HIGHER}"),
    Comparison(S10_T4_VS_PERSISTED, "flowyard.inproc.straight10.p1t4", "spiff.persisted.straight10.p1", f"inst/s, {HIGHER}"),
    Comparison(S10_SEQ_VS_MEMORY, "flowyard.inproc.straight10.p1", "spiff.memory.straight10.p1", f"inst/s, {HIGHER}"),
    Comparison(S10_T4_VS_MEMORY, "flowyard.inproc.straight10.p1t4", "spiff.memory.straight10.p1", f"inst/s, {HIGHER}"),
    Comparison("straight10 durable, 2 processes vs SpiffWorkflow persisted, 2 processes", "flowyard.inproc.straight10.p2", "spiff.persisted.straight10.p2", f"inst/s, {HIGHER}"),
    Comparison("straight10 durable vs django-viewflow", "flowyard.inproc.straight10.p1", "viewflow.straight10.p1", f"inst/s, {HIGHER}"),
    Comparison("straight10 durable, 2 processes vs django-viewflow, 2 processes", "flowyard.inproc.straight10.p2", "viewflow.straight10.p2", f"inst/s, {HIGHER}"),
    Comparison(FJ_SEQ_VS_PERSISTED, "flowyard.inproc.fork_join.p1", "spiff.persisted.fork_join.p1", f"inst/s, {HIGHER}"),
    Comparison(FJ_T4_VS_PERSISTED, "flowyard.inproc.fork_join.p1t4", "spiff.persisted.fork_join.p1", f"inst/s, {HIGHER}"),
    Comparison("fork_join durable, 1 process sequential vs SpiffWorkflow in memory", "flowyard.inproc.fork_join.p1", "spiff.memory.fork_join.p1", f"inst/s, {HIGHER}"),
    Comparison("fork_join durable, 1 process x 4 threads vs SpiffWorkflow in memory", "flowyard.inproc.fork_join.p1t4", "spiff.memory.fork_join.p1", f"inst/s, {HIGHER}"),
    Comparison("fork_join durable, 2 processes vs SpiffWorkflow persisted, 2 processes", "flowyard.inproc.fork_join.p2", "spiff.persisted.fork_join.p2", f"inst/s, {HIGHER}"),
    Comparison(SERVICE_VS_CELERY, "flowyard.service10.w1", "celery.throughput.w1", f"inst/s, {HIGHER}", 0.1, "Celery trivial tasks/s ÷ 10, 1 worker"),
    Comparison(SERVICE_HTTP_VS_CELERY, "flowyard.service10_http.w1", "celery.throughput.w1", f"inst/s, {HIGHER}", 0.1, "Celery trivial tasks/s ÷ 10, 1 worker"),
    Comparison("service10 python: time per task vs calling the handler directly", "flowyard.service10.task_ms", "direct.handler_ms", f"ms, {LOWER}"),
    Comparison("service10 http: time per task vs calling the service directly", "flowyard.service10_http.task_ms", "direct.http_ms", f"ms, {LOWER}"),
    Comparison("human: complete -> next task on inbox WebSocket, p50 (vs a bare Celery round trip)", "flowyard.human.p50", "celery.rtt.p50", f"ms, {LOWER}"),
    Comparison("human: complete -> next task on inbox WebSocket, p99 (vs a bare Celery round trip)", "flowyard.human.p99", "celery.rtt.p99", f"ms, {LOWER}"),
    Comparison(HISTORY_SCENARIO, "flowyard.history.filled", "flowyard.history.empty", f"inst/s, {HIGHER}"),
    Comparison("workers: straight10 from 2 processes vs 1", "flowyard.inproc.straight10.p2", "flowyard.inproc.straight10.p1", f"inst/s, {HIGHER}"),
    Comparison("workers: service10 with 2 worker processes vs 1", "flowyard.service10.w2", "flowyard.service10.w1", f"inst/s, {HIGHER}"),
    Comparison("pg_limit: Flowyard straight10 tx/s (1 process) vs PostgreSQL insert+update, 1 client", ("flowyard.inproc.straight10.p1", "flowyard.tx.straight10"), "pg.limit.c1", "tx/s, fraction of the limit"),
    Comparison("pg_limit: Flowyard straight10 tx/s (2 processes) vs PostgreSQL insert+update, 16 clients", ("flowyard.inproc.straight10.p2", "flowyard.tx.straight10"), "pg.limit.c16", "tx/s, fraction of the limit"),
]

#: (goal as issue 9 words it, comparison scenario or measurement key, test on the value).
#: The start goals are judged both ways: sequential (one call after another, as Spiff's
#: loop runs) and from 1 process with 4 threads (as a web or worker process serves).
GOALS = [
    ("straight10 durable ≥ 10× SpiffWorkflow persisted per step (sequential)", S10_SEQ_VS_PERSISTED, lambda r: r >= 10),
    ("straight10 durable ≥ 10× SpiffWorkflow persisted per step (1 process x 4 threads)", S10_T4_VS_PERSISTED, lambda r: r >= 10),
    ("straight10 durable ≥ SpiffWorkflow in memory (sequential)", S10_SEQ_VS_MEMORY, lambda r: r >= 1),
    ("straight10 durable ≥ SpiffWorkflow in memory (1 process x 4 threads)", S10_T4_VS_MEMORY, lambda r: r >= 1),
    ("fork_join durable ≥ 10× SpiffWorkflow persisted per step (sequential)", FJ_SEQ_VS_PERSISTED, lambda r: r >= 10),
    ("fork_join durable ≥ 10× SpiffWorkflow persisted per step (1 process x 4 threads)", FJ_T4_VS_PERSISTED, lambda r: r >= 10),
    ("service10 python: overhead ≤ 5 ms per task above the direct call", "flowyard.service10.overhead_ms", lambda v: v <= 5),
    ("service10 http: overhead ≤ 5 ms per task above the direct call", "flowyard.service10_http.overhead_ms", lambda v: v <= 5),
    ("service10 python ≥ ½ × (Celery trivial tasks/s ÷ 10)", SERVICE_VS_CELERY, lambda r: r >= 0.5),
    ("service10 http ≥ ½ × (Celery trivial tasks/s ÷ 10)", SERVICE_HTTP_VS_CELERY, lambda r: r >= 0.5),
    ("human p99 < 100 ms", "flowyard.human.p99", lambda v: v < 100),
    ("history_growth within 20% of the empty database", HISTORY_SCENARIO, lambda r: r >= 0.8),
]


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if magnitude >= 10 else f"{value:.2f}" if magnitude >= 0.1 else f"{value:.3g}"


def _lookup(results: dict[str, Measurement], key) -> tuple[float | None, str]:
    keys = key if isinstance(key, tuple) else (key,)
    value, errors = 1.0, []
    for k in keys:
        m = results.get(k)
        if m is None:
            errors.append("not measured in this run")
        elif not m.ok:
            errors.append(m.error)
        else:
            value *= m.value
    return (None, errors[0]) if errors else (value, "")


def compare(results: dict[str, Measurement]) -> list[dict]:
    rows = []
    for c in COMPARISONS:
        fy, fy_err = _lookup(results, c.flowyard)
        ref, ref_err = _lookup(results, c.reference)
        if ref is not None:
            ref *= c.ref_factor
        ref_m = results.get(c.reference)
        label = c.ref_label or (f"{ref_m.system}, {ref_m.variant}" if ref_m else c.reference)
        ratio = fy / ref if fy is not None and ref else None
        fy_m = results.get(c.flowyard) if isinstance(c.flowyard, str) else None
        if ratio is not None and fy_m and fy_m.detail.get("paired_with") == c.reference:
            ratio = fy_m.detail["paired_ratio"]  # measured alternately: the median of the rounds' ratios
        rows.append({"scenario": c.scenario, "flowyard": fy, "flowyard_error": fy_err, "reference": ref,
                     "reference_error": ref_err, "reference_label": label, "units": c.units, "ratio": ratio})
    return rows


def goals(results: dict[str, Measurement], rows: list[dict]) -> list[dict]:
    by_scenario = {r["scenario"]: r for r in rows}
    out = []
    for text, source, test in GOALS:
        if source in by_scenario:
            value = by_scenario[source]["ratio"]
            shown = f"ratio {value:.2f}" if value is not None else ""
        else:
            value, _ = _lookup(results, source)
            shown = f"{fmt(value)} ms" if value is not None else ""
        status = "n/a" if value is None else "met" if test(value) else "missed"
        if source == HISTORY_SCENARIO and value is not None and value > 1.25:
            # a full database cannot make starts faster: the load changed between the two figures
            status, shown = "inconclusive", f"{shown} (filled faster than empty: the load swung between the rounds)"
        out.append({"goal": text, "status": status, "value": value, "shown": shown})
    return out


def _cell(value, error) -> str:
    return fmt(value) if value is not None else f"n/a ({error})".replace("|", "/")


def render_markdown(run: dict) -> str:
    m = run["machine"]
    short, date, command = machine_short(m), run["date"][:10], f"`{run['command'].replace('python -m ', '')}`"
    lines = [
        "# Benchmark results",
        "",
        f"Written by {command} ({run['mode']} mode) on {date}. Every figure below was measured in that one run,",
        "side by side; ratios are Flowyard ÷ reference. Quick mode uses small samples (a smoke run, not a verdict);",
        "`make bench` runs the full sizes.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']:g} GiB RAM, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}, {m['os']}, pgbench {'yes' if m['pgbench'] else 'no (psycopg fallback)'}; "
        f"1-minute load average {m.get('load_avg_1m_start', '?')} at the start, {m.get('load_avg_1m')} at the end "
        "(other engineers' test runs share the machine).",
        "",
        "## Side by side",
        "",
        "| scenario | Flowyard | reference | ratio | units | machine | date | command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in run["comparisons"]:
        ref = _cell(r["reference"], r["reference_error"])
        ref = f"{ref} — {r['reference_label']}" if r["reference"] is not None else ref
        ratio = fmt(r["ratio"]) if r["ratio"] is not None else "—"
        lines.append(f"| {r['scenario']} | {_cell(r['flowyard'], r['flowyard_error'])} | {ref} | {ratio} | "
                     f"{r['units']} | {short} | {date} | {command} |")
    lines += ["", "## Goals of issue 9 (reported, not asserted)", "", "| goal | status | figure |", "|---|---|---|"]
    lines += [f"| {g['goal']} | {g['status']} | {g['shown']} |" for g in run["goals"]]
    lines += ["", "## All measurements", "", "| system | scenario | variant | value | units |", "|---|---|---|---|---|"]
    for x in run["measurements"]:
        lines.append(f"| {x['system']} | {x['scenario']} | {x['variant']} | {_cell(x['value'], x['error'])} | {x['units']} |")
    probe = run["notes"].get("flowyard_probe") or {}
    if probe:
        lines += ["", "## Flowyard adapter", "",
                  "Public functions the harness calls (`python -m bench.flowyard_side probe`):", ""]
        lines += [f"- found `{name}{sig}`" for name, sig in probe.get("signatures", {}).items()]
        lines += [f"- missing `{name}`" for name in probe.get("missing", [])]
    lines += ["", "## How it is measured", "", *[f"- {line}" for line in HOW], ""]
    return "\n".join(lines)


HOW = [
    "Same BPMN files for every engine (`bench/processes/`); every system runs in its own child "
    "interpreter (`bench/child.py`), prepared and warmed up untimed, then started together.",
    "SpiffWorkflow persisted: after every completed task the whole workflow is serialised with "
    "`BpmnWorkflowSerializer` and written to a jsonb row (autocommit), as spiff-arena saves from its delegate.",
    "django-viewflow: `straight10` as `StartHandle` + 10 `Function` nodes + `End` in a separate Django project "
    "(`bench/viewflow_project/`, database `bench_viewflow`).",
    "Celery: a separate app (`bench/celery_ref.py`) with Flowyard's service-mode broker settings, workers "
    "`--pool threads --concurrency 8` as in docker-compose; throughput = N no-op tasks until all ran.",
    "PostgreSQL limit: pgbench custom script (one insert + one update per transaction), psycopg processes when "
    "pgbench is missing.",
    "service10_http calls a JSON echo service on 127.0.0.1 in its own process (`bench/httpservice.py`, an asyncio "
    "protocol, as cheap as a stand-in for another machine's service can be); the direct-call baseline POSTs to "
    "the same service with httpx from the harness.",
    "Flowyard: service mode on database `flowyard_bench` (cloned each run from a migrated template database, re-migrated when a migration changes) and Redis db 12; "
    "transactions per instance from `pg_stat_database`, round trips from `CaptureQueriesContext`.",
    "Flowyard starts (`straight10`, `fork_join`): `runtime.services.instance_start` called in a loop, "
    "sequentially (one call after another, like SpiffWorkflow's loop) and from 4 threads of one process, each with "
    "its own database connection (as a web or worker process serves several requests at once; while one thread "
    "waits for PostgreSQL's durable commit another runs the engine). Both are one process on one core's worth of "
    "Python; both are reported next to the references and each goal is judged on both. The detail of every start "
    "figure in results.json carries the process's CPU per instance.",
    "Start-ups are untimed but cost seconds on the shared machine, so Flowyard's measured children are forked from "
    "one interpreter per environment that has set Django up (`bench.measure.Zygote`), and worker pools are kept "
    "from one scenario to the next. Celery workers are real `celery worker` processes, never forked: settings read "
    "the command line at import, and a worker forked from the zygote opened a new database connection per wake-up "
    "(until 2026-11-23 every service10 figure was measured so). The service10 throughput detail in results.json "
    "carries the database sessions opened while it ran (`db_sessions_opened`).",
    "history_growth: `straight10` on `flowyard_bench_empty` (a fresh clone of the template) and on "
    "`flowyard_bench_h<count>` (the template plus <count> completed instances and their history, generated on the "
    "server from one real instance and kept between runs while its stamp, migrations hash + generator + count, "
    "matches), measured alternately for `rounds` rounds; the ratio is the median of the rounds' filled / empty.",
]


def write(run: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "RESULTS.md", out_dir / "results.json"
    md.write_text(render_markdown(run))
    js.write_text(json.dumps(run, indent=2, default=str) + "\n")
    return md, js
