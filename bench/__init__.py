"""Benchmarks of a generated project: `uv run python -m bench [--quick]` (see README.md)."""
