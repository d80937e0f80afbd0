"""Helpers shared by the test modules: the wallet table read with a client of the test's own, requests signed
as each provider signs them, players created through the admin handlers, threads released together, and
DynamoDB clients that break on purpose.

Imported as ``tests.support.<module>``; pytest rewrites their asserts as it does a test module's."""

import pytest

pytest.register_assert_rewrite(
    "tests.support.concurrency",
    "tests.support.faults",
    "tests.support.players",
    "tests.support.requests",
    "tests.support.round_trips",
    "tests.support.wallet_table",
)
