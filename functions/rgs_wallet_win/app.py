"""POST /rgs-wallet/win: an external RGS's win call to our wallet (providers.md section 5)."""

from __future__ import annotations

from croupier.wallet.rgs import WalletAnswer
from croupier.wallet.wiring import rgs_wallet
from croupier.web import function, request

app, handler = function(error_fields={"ok": False})


@app.post("/rgs-wallet/win")
def win() -> WalletAnswer:
    return rgs_wallet().win(request(app))
