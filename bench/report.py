"""The benchmark's markdown: when, on what, then one table of figures."""

import datetime
import os
from importlib.metadata import version

import psycopg

from tests.support.servers import libpq, server_url

from .measure import Row

PACKAGES = ("fastapi", "sqlalchemy", "psycopg", "asyncpg", "uvicorn", "copier")


def report(figures: dict[str, list[Row]], *, quick: bool) -> str:
    with psycopg.connect(libpq(server_url())) as connection:
        server = connection.execute("SHOW server_version").fetchone()
    versions = ", ".join(f"{name} {version(name)}" for name in PACKAGES)
    lines = [
        f"# Benchmark{' (--quick)' if quick else ''}",
        "",
        f"{datetime.date.today().isoformat()} — {os.cpu_count()} cores, PostgreSQL "
        f"{server[0] if server else '?'} on loopback; {versions}.",
        "Absolute times on a shared 2-core machine are noisy: read the ratios, each to a baseline "
        "measured in the same run.",
        "",
        "| Figure | Measured | Value | Ratio |",
        "| --- | --- | --- | --- |",
    ]
    for figure, rows in figures.items():
        for label, value, ratio in rows:
            lines.append(f"| {figure} | {label} | {value} | {ratio} |")
    return "\n".join(lines) + "\n"
