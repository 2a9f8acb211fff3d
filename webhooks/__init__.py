"""Signed HTTP callbacks when instances complete, fail or raise an incident."""
