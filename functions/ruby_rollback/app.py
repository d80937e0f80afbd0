"""POST /ruby/rollback: Ruby's seamless-wallet rollback callback (providers.md section 2)."""

from __future__ import annotations

from croupier.wallet.ruby import RollbackAnswer
from croupier.wallet.wiring import ruby_wallet
from croupier.web import function, request

app, handler = function()


@app.post("/ruby/rollback")
def rollback() -> RollbackAnswer:
    return ruby_wallet().rollback(request(app))
