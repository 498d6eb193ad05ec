"""Operations: the catalog's convention checks, `doctor`, and the embedded local PostgreSQL.

Run from the command line (`python -m <package>.db doctor | embedded`) and from the test suite;
never by the running service. Template-owned.
"""
