"""Settings for the viewflow reference: the viewflow apps and one flow, nothing else."""
import os

import dj_database_url

SECRET_KEY = "bench-viewflow-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "viewflow",
    "viewflow.workflow",
    "bench.viewflow_project",
]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("BENCH_VIEWFLOW_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_viewflow"),
        conn_max_age=600,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "bench.viewflow_project.urls"
