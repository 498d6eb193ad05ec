"""Migration tooling: autogenerate rules, helpers for hand-written revisions, the revision lint.

Imported by Alembic (`migrations/env.py`), by revisions and by `python -m <package>.db`; never
by the running service. Template-owned.
"""
