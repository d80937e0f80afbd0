"""One Logger, Tracer and Metrics for every function, created once and imported everywhere.

Service name, namespace and level come from the POWERTOOLS_* environment set in template.yaml.
"""

from __future__ import annotations

import os
import threading
from collections import Counter

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
