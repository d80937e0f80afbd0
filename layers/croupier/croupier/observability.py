"""One Logger, Tracer and Metrics for every function, created once and imported everywhere.

Service name, namespace and level come from the POWERTOOLS_* environment set in template.yaml.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "Croupier"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "croupier"))
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))


_counts = threading.local()


def count(name: str, value: int = 1) -> None:
    """Count an event of this invocation (PascalCase name); published once per invocation by
    :func:`publish_counts`, so the hot path pays a dict update, not a metric serialisation."""
    counter: Counter[str] | None = getattr(_counts, "counter", None)
    if counter is None:
        counter = _counts.counter = Counter()
    counter[name] += value


def publish_counts() -> None:
    """Add this invocation's counts to the Powertools metrics flushed at the end of the handler."""
    counter: Counter[str] | None = getattr(_counts, "counter", None)
    if counter:
        for name, value in counter.items():
            metrics.add_metric(name=name, unit="Count", value=value)
        counter.clear()


Job = TypeVar("Job", bound=Callable[..., Any])


def instrumented_job(handler: Job) -> Job:
    """Wrap a Lambda handler that no HTTP request triggers (a queue worker, a schedule) with structured
    logging, tracing and metrics, the counts of the invocation included."""

    @functools.wraps(handler)
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            publish_counts()

    return wrapper  # type: ignore[return-value]
