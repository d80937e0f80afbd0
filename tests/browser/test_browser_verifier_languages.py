"""The verifier page in English and Korean, like the game: every text from its one table (``CroupierVerifierText``),
the language from the URL (``?lang=ko``, or ``lang=ko`` in the fragment beside ``round=``; English otherwise), its
verdicts and problems in the page's language while its decisions stay those of ``tools/verify_round.py``; the
game's link carries the game's language; usable at 360 by 640 without horizontal scroll."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from typing import Any
from urllib.parse import quote

import pytest

from croupier import fairness
from croupier_local import demo
from croupier_local.server import LocalStack
from tests.browser.test_browser_game import player_state, token_of, wait_for_bet_enabled
from tests.browser.test_browser_game_commitment import bet, wait_for_commitment
from tests.browser.test_browser_verifier import VERIFY_FILE, generated_rounds, outcome_of
from tests.support.browser import BROWSER, REPO_ROOT, Screenshots

pytestmark = BROWSER

PHONE = {"width": 360, "height": 640}
PAGE_SOURCE = (REPO_ROOT / "functions" / "rgs_play_page" / "verify.html").read_text(encoding="utf-8")
VERIFY_ROUND = REPO_ROOT / "tools" / "verify_round.py"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def say(text: str, **values: Any) -> str:
    """A table text with its placeholders filled, as the page's ``t()`` does."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def verifier_url(data: dict[str, Any], prefix: str = "?lang=ko#") -> str:
    """The verifier (as a file) with the round in the fragment, as the game links it."""
    return f"{VERIFY_FILE}{prefix}round={quote(json.dumps(data))}"


def operator_round(seed: int) -> dict[str, Any]:
    """A round as the operator publishes it (``GET /api/public/rgs/round/{id}``), with the hash shown before it."""
    data = generated_rounds(1, seed=seed)[0]
    seed_hash = fairness.seed_hash(data["server_seed"])
    return {**data, "server_seed_hash": seed_hash, "shown_server_seed_hash": seed_hash, "outcome": outcome_of(data)}


def verify_round_tool(data: dict[str, Any]) -> int:
    """``tools/verify_round.py``'s exit status on the round (0 everything matches, 1 a mismatch)."""
    done = subprocess.run(
        [sys.executable, str(VERIFY_ROUND), "-"], input=json.dumps(data), capture_output=True, text=True, timeout=60
    )
    return done.returncode


def english_leftovers(page: Any, texts: dict[str, dict[str, str]]) -> list[str]:
    """Fragments of the English texts (4 characters or more) visible on the page."""
    visible = page.locator("body").inner_text()
    return [
        fragment
        for text in texts["en"].values()
        for fragment in (part.strip(" .,:()…") for part in re.split(r"\{\w+\}", text))
        if len(fragment) >= 4 and fragment in visible
    ]


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= innerWidth"))


def cells(page: Any, check: str) -> list[str]:
    return [str(text) for text in page.locator(f"tr[data-check='{check}'] td").all_inner_texts()]


def test_every_verifier_text_is_in_the_table_in_both_languages_and_used(page: Any) -> None:
    page.goto(VERIFY_FILE + "?lang=ko")
    texts = page.evaluate("CroupierVerifierText")
    assert set(texts) == {"en", "ko"}
    assert texts["en"].keys() == texts["ko"].keys()
    code = PAGE_SOURCE[: PAGE_SOURCE.index("const TEXT")] + PAGE_SOURCE[PAGE_SOURCE.index("/* end of TEXT */") :]
    unused = [key for key in texts["ko"] if f'"{key}"' not in code]
    assert unused == []
    for key, text in texts["ko"].items():
        assert text.strip(), key
        assert sorted(re.findall(r"\{\w+\}", text)) == sorted(re.findall(r"\{\w+\}", texts["en"][key])), key
        assert sorted(re.findall(r"`[^`]*`", text)) == sorted(re.findall(r"`[^`]*`", texts["en"][key])), key
    assert HANGUL.search("".join(texts["ko"].values()))

    # the page before anything is verified: Korean throughout
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.title() == texts["ko"]["title"]
    assert page.locator("#verdict").inner_text() == texts["ko"]["verdictIdle"]
    assert page.locator("#verify").inner_text() == texts["ko"]["verifyButton"]
    assert page.locator("label[for='server_seed']").inner_text() == texts["ko"]["serverSeed"]
    assert page.locator("#claimed_crash").get_attribute("placeholder") == texts["ko"]["claimedCrashPlaceholder"]
    assert page.locator("thead th").all_inner_texts() == [
        texts["ko"][key] for key in ("headValue", "headComputed", "headPublished", "headCheck")
    ]
    assert "`" not in page.locator(".formula").inner_text()
    assert page.locator(".formula code").first.inner_text().startswith("HMAC_SHA256(")
    assert english_leftovers(page, texts) == []
    assert no_horizontal_scroll(page)

    # English by default and for anything else; the fragment's lang when the query names none
    for query, lang in (
        ("", "en"),
        ("?lang=xx", "en"),
        ("?lang=KO", "en"),
        ("#lang=ko", "ko"),
        ("?lang=en#lang=ko", "en"),
    ):
        page.goto("about:blank")
        page.goto(VERIFY_FILE + query)
        assert page.evaluate("document.documentElement.lang") == lang, query
        assert page.locator("#verdict").inner_text() == texts[lang]["verdictIdle"], query
        assert page.title() == texts[lang]["title"], query


def test_a_korean_verification_of_a_real_round_shows_the_korean_verdict(page: Any, shot: Screenshots) -> None:
    page.set_viewport_size(PHONE)
    data = operator_round(seed=71)
    assert verify_round_tool(data) == 0
    page.goto(verifier_url(data))
    page.wait_for_selector("#verdict[data-result='match']")
    texts = page.evaluate("CroupierVerifierText")
    ko = texts["ko"]
    crash = data["outcome"]["crashPoint"]
    assert page.locator("#verdict").inner_text() == say(ko["verdictMatchShown"], crash=crash)
    assert page.locator("#problems li").count() == 0
    for check, label in [
        ("server_seed_hash", "checkSeedHash"),
        ("shown before the bet", "checkShown"),
        ("crash point", "checkCrash"),
        ("map seed", "checkMap"),
        ("loot seed", "checkLoot"),
        ("guard seed", "checkGuard"),
    ]:
        row = cells(page, check)
        assert row[0] == ko[label], check
        assert row[3] == ko["match"], check
    assert cells(page, "crash point")[1:3] == [crash, crash]
    assert english_leftovers(page, texts) == []
    assert no_horizontal_scroll(page)
    shot(page, "ko-phone-match")

    # without anything published to compare: the computed crash point, in Korean
    page.locator("#server_seed_hash").fill("")
    page.locator("#shown_server_seed_hash").fill("")
    for field in ("#claimed_crash", "#claimed_map", "#claimed_loot", "#claimed_guard"):
        page.locator(field).fill("")
    page.locator("#verify").click()
    page.wait_for_selector("#verdict[data-result='computed']")
    assert page.locator("#verdict").inner_text() == say(ko["verdictComputed"], crash=crash)
    assert cells(page, "crash point")[2:] == [ko["notGiven"], ko["notCompared"]]
    assert english_leftovers(page, texts) == []


def test_a_forged_round_shows_the_korean_mismatches(page: Any, shot: Screenshots) -> None:
    page.set_viewport_size(PHONE)
    data = operator_round(seed=72)
    forged_seed = data["server_seed"][:-1] + ("0" if data["server_seed"][-1] != "0" else "1")
    forged = {**data, "server_seed": forged_seed}  # the seed revealed is not the one committed to
    assert verify_round_tool(forged) == 1
    page.goto(verifier_url(forged))
    page.wait_for_selector("#verdict[data-result='mismatch']")
    texts = page.evaluate("CroupierVerifierText")
    ko = texts["ko"]
    computed = outcome_of({**forged})
    forged_hash = fairness.seed_hash(forged_seed)
    expected = [say(ko["hashMismatch"], computed=forged_hash, published=data["server_seed_hash"])]
    if computed["crashPoint"] != data["outcome"]["crashPoint"]:
        expected.append(
            say(ko["crashMismatch"], computed=computed["crashPoint"], claimed=data["outcome"]["crashPoint"])
        )
    for key, label in (("mapSeed", "checkMap"), ("lootSeed", "checkLoot"), ("guardSeed", "checkGuard")):
        expected.append(say(ko["seedMismatch"], seed=ko[label], computed=computed[key]))
    assert page.locator("#verdict").inner_text() == ko["verdictMismatch"]
    assert page.locator("#problems li").all_inner_texts() == expected
    assert cells(page, "server_seed_hash")[3] == ko["mismatch"]
    assert cells(page, "shown before the bet")[3] == ko["match"]  # the published hash is the one shown
    assert english_leftovers(page, texts) == []
    assert no_horizontal_scroll(page)
    shot(page, "ko-phone-forged-seed")

    # a round whose hash is not the one shown before the bet: the Korean commitment mismatch
    switched = {**data, "shown_server_seed_hash": fairness.seed_hash("the seed whose hash the player was shown")}
    assert verify_round_tool(switched) == 1
    page.goto("about:blank")
    page.goto(verifier_url(switched, prefix="#lang=ko&"))
    page.wait_for_selector("#verdict[data-result='mismatch']")
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.locator("#problems li").all_inner_texts() == [
        say(ko["commitmentMismatch"], round=data["server_seed_hash"], shown=switched["shown_server_seed_hash"])
    ]
    assert cells(page, "shown before the bet")[3] == ko["mismatch"]
    assert no_horizontal_scroll(page)
    shot(page, "ko-phone-commitment-mismatch")

    # input the verifier cannot use: said in Korean
    page.locator("#nonce").fill("12a")
    page.locator("#verify").click()
    page.wait_for_selector("#verdict[data-result='error']")
    assert page.locator("#verdict").inner_text() == say(ko["cannotVerify"], error=ko["errNonce"])
    page.locator("#paste").fill("{not json")
    page.locator("#load").click()
    assert page.locator("#verdict").inner_text().startswith(ko["badJson"].split("{error}")[0])
    assert english_leftovers(page, texts) == []


def test_a_broken_korean_link_is_named_in_korean(page: Any) -> None:
    page.goto(VERIFY_FILE + "?lang=ko#round=%7Bnot-json")
    page.wait_for_selector("#verdict[data-result='error']")
    assert page.locator("#verdict").inner_text() == page.evaluate("CroupierVerifierText.ko.badLink")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_games_verify_link_opens_the_verifier_in_the_games_language(
    local_stack: LocalStack, page: Any, shot: Screenshots, lang: str
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # only where the browser tests run

    currency, deposit, amount = {"ko": ("KRW", "1000000", "1000"), "en": ("USD", "1000.00", "1.00")}[lang]
    game = demo.run(local_stack.base_url, local_stack.secret_store, currency=currency, deposit=deposit, lang=lang)
    page.set_viewport_size(PHONE)
    page.goto(game.launch_url)
    shown = wait_for_commitment(page)
    wait_for_bet_enabled(page)
    _, answer = bet(page, amount)
    assert answer.status == 200, answer.text()
    round_id = answer.json()["round_id"]
    with contextlib.suppress(PlaywrightTimeout):  # it crashed first: settled all the same
        page.locator("#cashout").click(timeout=2_000)
    row = f"tr[data-round-id='{round_id}'] a.verify"
    page.wait_for_selector(row, state="attached", timeout=30_000)
    settled = next(
        r for r in player_state(local_stack, token_of(game.launch_url))["rounds"] if r["round_id"] == round_id
    )
    href = str(page.locator(row).get_attribute("href"))
    assert href.startswith("/verify?lang=ko#round=" if lang == "ko" else "/verify#round="), href

    verifier = page.context.new_page()
    try:
        verifier.set_viewport_size(PHONE)
        verifier.goto(local_stack.base_url + href)
        verifier.wait_for_selector("#verdict[data-result='match']")
        texts = verifier.evaluate("CroupierVerifierText")
        assert verifier.evaluate("document.documentElement.lang") == lang
        assert verifier.locator("#shown_server_seed_hash").input_value() == shown
        assert verifier.locator("#verdict").inner_text() == say(
            texts[lang]["verdictMatchShown"], crash=settled["crash_point"]
        )
        assert cells(verifier, "shown before the bet")[3] == texts[lang]["match"]
        if lang == "ko":
            assert english_leftovers(verifier, texts) == []
        assert no_horizontal_scroll(verifier)
        shot(verifier, f"{lang}-phone-verified", readme="verifier-ko.png" if lang == "ko" else None)
    finally:
        verifier.close()
