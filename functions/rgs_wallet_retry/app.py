"""SQS worker: wins and refunds the operator's wallet did not take, tried again until they succeed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.observability import instrumented_job
from croupier.rgs.retries import process_batch
from croupier.rgs.wiring import retry_worker_game, retry_worker_queue


@instrumented_job
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event.get("Records", []), retry_worker_game(), retry_worker_queue().hold_back)
