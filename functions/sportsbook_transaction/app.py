"""POST /sportsbook/transaction: the sportsbook's transaction callback (providers.md section 4).

Every processed answer is HTTP 200 JSON; see croupier.wallet.sportsbook for the codes.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from croupier.wallet.wiring import sportsbook_wallet
from croupier.web import function, json_response, request

app, handler = function()


@app.post("/sportsbook/transaction")
def transaction() -> Response[str]:
    answer = sportsbook_wallet().transaction(request(app))
    return json_response(answer.status, answer.body)
