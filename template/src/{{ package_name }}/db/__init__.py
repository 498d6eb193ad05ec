"""What runs in every request: engine, declarative base, mixins, sessions, database errors.

No web framework here: the same code serves the API, scripts and workers. Template-owned:
`copier update` keeps these files current; build on them from your own modules.
`python -m <package>.db` (`__main__.py`) is the database command line for migrations and
operations; it is the one module here that reaches into `migration/` and `operations/`.
"""
