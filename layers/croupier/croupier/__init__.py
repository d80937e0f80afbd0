"""Croupier's shared layer: signing, money, ledger, models and the clients of providers' APIs."""

__version__ = "0.1.0"
