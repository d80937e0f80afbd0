"""``make sam-test`` compares each container's answer with the in-process one after replacing what every run
draws afresh. Random tokens must be replaced whatever characters they happened to draw: a session token with no
digit (about 1 in 230 draws) once made the comparison fail."""

from __future__ import annotations

from croupier_local.sam_local import normalise


def test_tokens_are_replaced_whatever_they_drew() -> None:
    answer = {
        "launch_url": "https://x.example/play?session=ltEezTLXMnFgVEozppZaF-grYpHnmdbs",  # no digit
        "api_key": "rk_abcdefghijklmnopqrstuvwx",  # no digit either
        "hmac_secret": "-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789abcdef",  # starts with "-": no word boundary
        "session_id": "s_abcdefabcdefabcdefabcdefabcdefab",
        "note": "-x1yZ23abcdefghijklmnopqrs- in a sentence",
        "message": "the sportsbook could not be reached",
    }
    assert normalise(answer) == {
        "launch_url": "https://x.example/play?session=<token>",
        "api_key": "<token>",
        "hmac_secret": "<token>",
        "session_id": "<token>",
        "note": "<token> in a sentence",
        "message": "the sportsbook could not be reached",
    }


def test_two_runs_with_different_tokens_compare_equal() -> None:
    first = {
        "body": '{"ok": true, "api_key": "rk_aaaaaaaaaaaaaaaaaaaaaaaa", "launch_url": "https://h/play?session=Abc-1"}'
    }
    second = {
        "body": '{"ok": true, "api_key": "rk_9b8c7d6e5f4a3b2c1d0e9f8a", "launch_url": "https://h/play?session=Zz_9"}'
    }
    assert normalise(first) == normalise(second)
