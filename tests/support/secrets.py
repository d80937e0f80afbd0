"""The local stack's Secrets Manager as a test reads it: every secret, through the SDK's own calls."""

from __future__ import annotations

from croupier_local.aws_services import client


def every_secret(endpoint_url: str) -> dict[str, str]:
    """Every secret's current value by name (to show that a refused request wrote none)."""
    sm = client("secretsmanager", endpoint_url)
    names = [entry["Name"] for page in sm.get_paginator("list_secrets").paginate() for entry in page["SecretList"]]
    return {name: sm.get_secret_value(SecretId=name)["SecretString"] for name in sorted(names)}
