"""POST /ruby/balance: Ruby's seamless-wallet balance callback (providers.md section 2)."""

from __future__ import annotations

from croupier.wallet.ruby import BalanceAnswer
from croupier.wallet.wiring import ruby_wallet
from croupier.web import function, request

app, handler = function()


@app.post("/ruby/balance")
def balance() -> BalanceAnswer:
    return ruby_wallet().balance(request(app))
