"""Logs and metrics as an operator gets them: uvicorn with two worker processes, as the image
runs the service, JSON logs on stdout and Prometheus scrapes through either worker."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .support.projects import Project
from .support.servers import served

PROBES = 40
# Sequential connections land on either worker, but nothing says how: enough scrapes that both
# answer some (the unguarded test below needs that to show anything).
SCRAPES = 20


async def probe_then_scrape(base: str) -> list[float]:
    """PROBES readiness probes, then SCRAPES scrapes: each its own connection, so the kernel
    hands them to either worker. Each scrape's count of those probes."""
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=no_reuse, timeout=10) as http:
        probes = [
            http.get("/health/ready", headers={"X-Request-ID": f"probe-{n}"}) for n in range(PROBES)
        ]
        answers = await asyncio.wait_for(asyncio.gather(*probes), 60)
        assert [answer.status_code for answer in answers] == [200] * PROBES
        counts = []
        for _ in range(SCRAPES):
            scraped = await asyncio.wait_for(http.get("/metrics"), 10)
            assert scraped.status_code == 200, scraped.text
            counts.append(probes_counted(scraped.text))
        return counts


def probes_counted(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["route"] == "/health/ready"
    )


def serve_two_workers(project: Project, tmp_path: Path, **settings: str) -> tuple[list[float], str]:
    """The scrapes' counts and what the service printed on stdout."""
    env = project.service_env(None, LOG_FORMAT="json", LOG_LEVEL="INFO", **settings)
    if "PROMETHEUS_MULTIPROC_DIR" not in settings:
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    printed = tmp_path / "stdout.log"
    with printed.open("wb") as output, (tmp_path / "stderr.log").open("wb") as errors:
        app = project.app_factory("--workers", "2")
        with served(
            app,
            env,
            str(project.root),
            output=output,
            log=errors,
            log_level="info",
            python=project.python(),
        ) as base:
            counts = asyncio.run(probe_then_scrape(base))
    return counts, printed.read_text()


def test_two_workers_log_json_with_request_ids_and_add_up_their_metrics(
    project: Project, tmp_path: Path
) -> None:
    project.migrate()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    counts, printed = serve_two_workers(project, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(shared))

    assert counts == [PROBES] * SCRAPES  # whichever worker answered the scrape
    lines: list[dict[str, Any]] = [json.loads(line) for line in printed.splitlines()]
    access = [
        line for line in lines if line["event"] == "request" and line["route"] == "/health/ready"
    ]
    assert sorted(line["request_id"] for line in access) == sorted(
        f"probe-{n}" for n in range(PROBES)
    )
    assert {line["status"] for line in access} == {200}
    uvicorn = [line for line in lines if line["logger"] == "uvicorn.error"]
    assert any("Application startup complete" in line["event"] for line in uvicorn)


def test_without_a_shared_folder_each_worker_counts_only_its_own(
    project: Project, tmp_path: Path
) -> None:
    """The unguarded case: why the image sets PROMETHEUS_MULTIPROC_DIR."""
    project.migrate()
    counts, _ = serve_two_workers(project, tmp_path)

    # The worker that took fewer probes (all of them go to one worker, now and then) answers
    # some of the scrapes with its own count.
    assert min(counts) < PROBES, counts
