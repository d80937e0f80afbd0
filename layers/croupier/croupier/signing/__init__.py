"""Signature schemes of every protocol Croupier speaks (providers.md section 1).

Each scheme module offers ``sign`` (the hex signature), ``headers`` (what a client sends) and
``verify`` (takes a :class:`RawRequest` and answers a :class:`Verdict`). Standard library only.
"""

from croupier.signing import rabbitx, rgs, ruby_callback, ruby_team, sportsbook
from croupier.signing._core import Clock, Failure, Headers, RawRequest, Verdict

__all__ = [
    "Clock",
    "Failure",
    "Headers",
    "RawRequest",
    "Verdict",
    "rabbitx",
    "rgs",
    "ruby_callback",
    "ruby_team",
    "sportsbook",
]
