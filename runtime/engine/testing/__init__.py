"""Helpers for tests, the soundness checker and dry runs: a compiled-graph builder, a random
block-structured process generator and a step driver with save/restore between steps."""
