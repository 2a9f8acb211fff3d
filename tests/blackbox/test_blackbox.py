"""Runs tests/blackbox/run_blackbox.py against Daphne in a subprocess (the `live_server_url`
fixture; on SQLite its embedded worker runs inside that Daphne, in service mode a Celery
worker process runs beside it). The script speaks only HTTP."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(__file__).resolve().parent / "run_blackbox.py"


@pytest.mark.timeout(300)
def test_the_blackbox_script_passes_against_a_live_server(request, transactional_db, live_server_url):
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    if settings.SERVICE_MODE:
        request.getfixturevalue("celery_worker_process")
    user = User.objects.create_superuser("blackbox", email="", password=None)
    token = Token.objects.create(user=user).key
    done = subprocess.run([sys.executable, str(SCRIPT), "--base-url", live_server_url, "--token", token, "--count", "50"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["instances"] == 50 and report["approved"] == 25 and report["status"] == "completed"
