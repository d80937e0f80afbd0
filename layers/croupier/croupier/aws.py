"""AWS clients, created lazily and once per execution environment (never at import time).

Retries are off in botocore: the data layer retries itself, bounded and with jitter, so that every
attempt is visible (and countable) and a transaction retried after a lost response keeps its token.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from botocore.config import Config

CLIENT_CONFIG = Config(
    connect_timeout=0.5,
    read_timeout=1,  # DynamoDB answers in milliseconds; a lost answer must leave room to retry within 5 s
    retries={"total_max_attempts": 1, "mode": "standard"},
    tcp_keepalive=True,
    max_pool_connections=50,
)

_lock = threading.Lock()


def attempt_seconds(config: Config) -> float:
    """The longest one call through a client of ``config`` can take (connect plus read timeouts, per attempt)."""
    return float(config.connect_timeout) + float(config.read_timeout)


@cache
def dynamodb() -> Any:
    """The low-level DynamoDB client (endpoint from AWS_ENDPOINT_URL_DYNAMODB on the local stack)."""
    import boto3

    with _lock:  # boto3's default session is not thread-safe while it creates clients
        return boto3.session.Session().client("dynamodb", config=CLIENT_CONFIG)


@cache
def sqs() -> Any:
    import boto3

    with _lock:
        return boto3.session.Session().client("sqs", config=CLIENT_CONFIG)


SECRETS_CONFIG = Config(
    connect_timeout=0.5,
    read_timeout=1,  # GetSecretValue answers in tens of ms; botocore's default 60 s would outlast any deadline
    retries={"total_max_attempts": 2, "mode": "standard"},
    tcp_keepalive=True,
)


@cache
def secretsmanager() -> Any:
    """Secrets Manager (AWS_ENDPOINT_URL_SECRETS_MANAGER on the local stack): one retry, short timeouts."""
    import boto3

    with _lock:
        return boto3.session.Session().client("secretsmanager", config=SECRETS_CONFIG)


@cache
def kms() -> Any:
    """KMS (AWS_ENDPOINT_URL_KMS on the local stack), for the RGS's sealed seeds: the secrets' short timeouts
    and one retry (GenerateDataKey and Decrypt answer in milliseconds)."""
    import boto3

    with _lock:
        return boto3.session.Session().client("kms", config=SECRETS_CONFIG)
