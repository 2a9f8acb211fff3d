"""A minimal Django project for django-viewflow 2, separate from Flowyard's settings.

It runs only in child processes (``DJANGO_SETTINGS_MODULE=bench.viewflow_project.settings``)
against its own database, so the two Django projects never share a process.
"""
