"""SQS worker: wins and refunds the operator's wallet did not take, tried again until they succeed."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier import aws
from croupier.rgs.retries import process_batch
from croupier.rgs.wiring import game
from croupier.web import instrumented


def change_visibility(receipt_handle: str, seconds: int) -> None:
    aws.sqs().change_message_visibility(
        QueueUrl=os.environ["RETRY_QUEUE_URL"], ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event.get("Records", []), game(), change_visibility)
