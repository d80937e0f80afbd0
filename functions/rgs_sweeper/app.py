"""Scheduled every minute: the rounds whose time has come are settled, refunded or paid (``Game.sweep``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.observability import instrumented_job, logger
from croupier.rgs.wiring import game


@instrumented_job
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    done = game().sweep(time_left_ms=context.get_remaining_time_in_millis)
    logger.info("sweep done", extra=done)
    return done
