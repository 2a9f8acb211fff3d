"""The engine core imports nothing from Django (DESIGN: pure core, thin shell)."""
import ast
import pathlib
import subprocess
import sys

import runtime.engine

ENGINE = pathlib.Path(runtime.engine.__file__).parent
FORBIDDEN = ("django", "rest_framework", "channels", "celery")


def test_no_module_of_the_core_imports_django_statically():
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_and_running_the_core_loads_no_django_module():
    code = (
        "import sys\n"
        "from runtime.engine.testing.builder import GraphBuilder\n"
        "from runtime.engine.testing.driver import Driver\n"
        "b = GraphBuilder().start('s').script('a', x='1').end('e')\n"
        "d = Driver(b.chain('s', 'a', 'e').graph()); d.start()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in %r]\n"
        "print(bad); sys.exit(1 if bad else 0)\n" % (FORBIDDEN,)
    )
    root = ENGINE.parent.parent
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": ""}, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
