"""POST /ruby/debit: Ruby's seamless-wallet debit callback (providers.md section 2)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from croupier.signing import RawRequest
from croupier.wallet.ruby import MoveAnswer
from croupier.wallet.wiring import ruby_wallet
from croupier.web import build_resolver, instrumented

app = build_resolver()


@app.post("/ruby/debit")
def debit() -> MoveAnswer:
    return ruby_wallet().debit(RawRequest.from_apigw_v2(app.current_event.raw_event))


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
