"""Side-by-side benchmarks: Flowyard against SpiffWorkflow, django-viewflow, Celery and PostgreSQL.

``python -m bench.run --quick|--full`` measures every system in one invocation on the same
BPMN files (``bench/processes/``) and writes ``bench/RESULTS.md`` and ``bench/results.json``.
Figures are quoted as ratios because the machines are shared and noisy.
"""
