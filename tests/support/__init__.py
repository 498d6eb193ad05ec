"""What the template's tests and the benchmark share: the variants, how a user runs a project,
rendered projects with databases of their own, servers (uvicorn, PgBouncer) and updates.

Imports go one way: `tests/` and `bench/` import this package; it imports neither.
"""
