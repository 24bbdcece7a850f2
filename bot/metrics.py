"""Prometheus metrics of the process, served at `/metrics` by the HTTP server.

Every area increments these with the small functions below (no prometheus imports needed
elsewhere). One registry per process; values that live in the database (the outbox queue)
are read when `/metrics` is scraped, see `refresh_from_database`.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select

from models.kernel import Database, OutboxMessage, OutboxStatus

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

OPERATIONS = Counter(
    "loyalty_operations_total", "Domain operations committed, by kind and channel",
    ["kind", "channel"], registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "loyalty_outbox_pending", "Outgoing messages waiting in the outbox (read at scrape time)",
    registry=REGISTRY,
)
OUTBOX_SENT = Counter(
    "loyalty_outbox_messages_total", "Outbox messages handled by the sender, by result",
    ["result"], registry=REGISTRY,
)
SENDER_RATE = Gauge(
    "loyalty_sender_rate", "Messages per second the sender currently allows itself", registry=REGISTRY,
)
TELEGRAM_429 = Counter(
    "loyalty_telegram_429_total", "Telegram answered 429 Too Many Requests", registry=REGISTRY,
)
JOB_RUNS = Counter(
    "loyalty_job_runs_total", "Scheduler job runs, by job and result", ["job", "result"], registry=REGISTRY,
)
JOB_LAST_RUN = Gauge(
    "loyalty_job_last_run_timestamp_seconds", "When each job last finished (unix time)", ["job"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "loyalty_http_requests_total", "HTTP requests served, by route template, method and status",
    ["route", "method", "status"], registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "loyalty_http_request_duration_seconds", "HTTP request duration, by route template", ["route"],
    registry=REGISTRY, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_ERRORS = Counter(
    "loyalty_api_errors_total", "Partner API error answers, by errorCode", ["error_code"], registry=REGISTRY,
)
WEBHOOK_UPDATES = Counter(
    "loyalty_webhook_updates_total", "Telegram webhook requests, by result", ["result"], registry=REGISTRY,
)


def observe_operation(kind: str, channel: str) -> None:
    OPERATIONS.labels(kind=kind, channel=channel).inc()


def record_outbox_result(result: str) -> None:
    """result: sent, failed, blocked, retried."""
    OUTBOX_SENT.labels(result=result).inc()


def record_429() -> None:
    TELEGRAM_429.inc()


def set_sender_rate(messages_per_second: float) -> None:
    SENDER_RATE.set(messages_per_second)


def record_job_run(job: str, ok: bool = True) -> None:
    JOB_RUNS.labels(job=job, result="ok" if ok else "error").inc()
    JOB_LAST_RUN.labels(job=job).set(time.time())


async def refresh_from_database(db: Database) -> None:
    """Values kept in the database, read at scrape time so every process reports the truth."""
    async with db.reading() as session:
        pending = (await session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
        )).scalar()
    OUTBOX_PENDING.set(int(pending or 0))


def render() -> bytes:
    return generate_latest(REGISTRY)


__all__ = [
    "CONTENT_TYPE", "REGISTRY", "observe_operation", "record_429", "record_job_run", "record_outbox_result",
    "refresh_from_database", "render", "set_sender_rate",
]
