"""POST /ruby/credit: Ruby's seamless-wallet credit callback (providers.md section 2)."""

from __future__ import annotations

from croupier.wallet.ruby import MoveAnswer
from croupier.wallet.wiring import ruby_wallet
from croupier.web import function, request

app, handler = function()


@app.post("/ruby/credit")
def credit() -> MoveAnswer:
    return ruby_wallet().credit(request(app))
