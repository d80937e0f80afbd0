"""POST /ruby/debit: Ruby's seamless-wallet debit callback (providers.md section 2)."""

from __future__ import annotations

from croupier.wallet.ruby import MoveAnswer
from croupier.wallet.wiring import ruby_wallet
from croupier.web import function, request

app, handler = function()


@app.post("/ruby/debit")
def debit() -> MoveAnswer:
    return ruby_wallet().debit(request(app))
