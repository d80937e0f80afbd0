"""The RgsTable's stream: each settled round added to the day's sharded revenue counters, exactly once."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.observability import instrumented_job
from croupier.rgs.attempts import time_budget
from croupier.rgs.revenue import aggregate
from croupier.rgs.wiring import rgs_store


@instrumented_job
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with time_budget(context.get_remaining_time_in_millis):
        return aggregate(rgs_store(), event.get("Records", []), now_s=int(time.time()))
