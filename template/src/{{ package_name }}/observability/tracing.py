"""Traces, opt-in: when the standard OTEL_* variables name an exporter, every request and every
SQL statement becomes a span (OpenTelemetry's FastAPI and SQLAlchemy instrumentations).

Unset, nothing here is imported: the SDK, the instrumentations and the exporter are the
optional `tracing` extra (`uv sync --extra tracing`; the Dockerfile installs it).
"""

import os
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

EXPORTERS = ("otlp", "console")


def requested() -> bool:
    """OTEL_TRACES_EXPORTER names an exporter we install, or an OTLP endpoint is set."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporters = os.environ.get("OTEL_TRACES_EXPORTER", "").split(",")
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    return any(exporter.strip() in EXPORTERS for exporter in exporters) or bool(endpoint)


def provider_from_environment() -> "TracerProvider":
    """A provider exporting as OTEL_* say: service name, sampler, endpoint, headers and all."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    provider = TracerProvider(resource=Resource.create())  # OTEL_SERVICE_NAME, _RESOURCE_ATTRIBUTES
    for name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(","):
        exporter: SpanExporter
        if name.strip() == "console":
            exporter = ConsoleSpanExporter()
        elif name.strip() == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout)
        else:
            continue
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def trace_requests(app: FastAPI, provider: "TracerProvider") -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # Probes and scrapes every few seconds would drown the traces that matter.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="health/live,health/ready,metrics"
    )


def trace_statements(engines: list[AsyncEngine], provider: "TracerProvider") -> None:
    """Until `stop_tracing_statements`; the instrumentor is one per process, so all at once."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # skip_dep_check: the instrumentation declares sqlalchemy<2.1 and, without it, silently
    # instruments nothing on a newer release. It hooks the engine's events, which 2.x keeps.
    SQLAlchemyInstrumentor().instrument(
        engines=[engine.sync_engine for engine in engines],
        tracer_provider=provider,
        skip_dep_check=True,
    )


def stop_tracing_statements() -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()


def tag_span(request_id: str) -> None:
    """Put the request id on the request's server span, to find a log line's trace."""
    from opentelemetry import trace

    trace.get_current_span().set_attribute("request.id", request_id)
