"""One Logger, Tracer and Metrics for every function, created once and imported everywhere.

Service name, namespace and level come from the POWERTOOLS_* environment set in template.yaml.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
