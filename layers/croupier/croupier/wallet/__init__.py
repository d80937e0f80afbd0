"""Provider adapters of the seamless wallet, all on the one ledger."""
