"""Environment settings, validated once per execution environment (cold start), never read by logic."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = Field(default="dev", pattern=r"^[a-z0-9-]{1,20}$")
    wallet_table: str = Field(min_length=3)
    rgs_table: str = Field(default="RgsTable", min_length=3)
    secrets_prefix: str = "croupier/dev/"
    rgs_seed_key_id: str = ""
    """The KMS key that seals the RGS's seeds (``croupier.rgs.sealing``); only the functions that seal have it."""


@cache
def settings() -> Settings:
    return Settings(
        stage=os.environ.get("STAGE", "dev"),
        wallet_table=os.environ.get("WALLET_TABLE", ""),
        rgs_table=os.environ.get("RGS_TABLE", "RgsTable"),
        secrets_prefix=os.environ.get("SECRETS_PREFIX", "croupier/dev/"),
        rgs_seed_key_id=os.environ.get("RGS_SEED_KEY_ID", ""),
    )
