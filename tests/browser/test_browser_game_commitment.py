"""The crash game's page in English and Korean, at phone (360 by 640) and desktop (1280 by 800) sizes, against the local
stack: the commitment shown before the bet is the one the bet names and the round's hash; the curve is drawn on
the canvas; the last crash points make a strip; the session's time runs; every text comes from the page's one
table. And the attacks: a commitment swapped between display and bet is never bet against (the page shows the new
one and says so); a round whose hash is not the one shown is warned about, and the verifier flags it."""

from __future__ import annotations

import contextlib
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from croupier import fairness
from croupier.rgs.credentials import token_hash
from croupier.rgs.store import SESSION_SK, session_pk
from croupier_local import demo
from croupier_local.server import LocalStack
from tests.browser.test_browser_game import player_state, token_of, wait_for_bet_enabled
from tests.support.browser import BROWSER, REPO_ROOT, Screenshots

pytestmark = BROWSER

SIZES = {"phone": {"width": 360, "height": 640}, "desktop": {"width": 1280, "height": 800}}
GAMES = {  # language: (currency, deposit, bet typed by the player, the balance as the page shows it)
    "en": ("USD", "1000.00", "1.00", r"[\d,]+\.\d\d USD"),
    "ko": ("KRW", "1000000", "1000", r"[\d,]+ KRW"),
}
PAGE_SOURCE = (REPO_ROOT / "functions" / "rgs_play_page" / "play.html").read_text(encoding="utf-8")
CANVAS_INK = """() => {
  const canvas = document.getElementById("curve");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;  // pixels of the curve's colours (amber, green, red), not the grid's or the labels' greys
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] > 200 && Math.max(pixels[i], pixels[i + 1]) > 200) ink += 1;
  }
  return ink;
}"""


def shown_hash(page: Any) -> str:
    return str(page.locator("#commitment").get_attribute("data-hash") or "")


def wait_until(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_commitment(page: Any) -> str:
    wait_until(lambda: re.fullmatch(r"[0-9a-f]{64}", shown_hash(page)) is not None, "the commitment to be shown")
    return shown_hash(page)


def csp_violations(page: Any) -> list[str]:
    found: list[str] = []

    def seen(message: Any) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", seen)
    return found


def bet(page: Any, amount: str) -> tuple[dict[str, Any], Any]:
    """Click Bet: the body the page sent and the server's answer."""
    page.locator("#amount").fill(amount)
    with page.expect_response("**/rgs/play/bet") as answered:
        page.locator("#bet").click()
    response = answered.value
    return json.loads(response.request.post_data or "{}"), response


def phase_of(page: Any) -> str:
    return str(page.locator("#stage").get_attribute("data-phase"))


def swap_commitment(client: Any, token: str) -> str:
    """What a dishonest server (or an insider with table access) does: a seed of its choosing in place of the
    committed one."""
    chosen = "cd" * 32
    client.update_item(
        TableName="RgsTable",
        Key={"pk": {"S": session_pk(token_hash(token))}, "sk": {"S": SESSION_SK}},
        UpdateExpression="SET next_seed = :s, next_seed_hash = :h",
        ExpressionAttributeValues={":s": {"S": chosen}, ":h": {"S": fairness.seed_hash(chosen)}},
    )
    return fairness.seed_hash(chosen)


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_commitment_shown_before_the_bet_is_the_rounds_and_the_page_draws_and_checks_it(
    local_stack: LocalStack, page: Any, shot: Screenshots, lang: str, size: str
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # only where the browser tests run

    currency, deposit, amount, balance_pattern = GAMES[lang]
    width = SIZES[size]["width"]
    page.set_viewport_size(SIZES[size])
    violations = csp_violations(page)
    game = demo.run(local_stack.base_url, local_stack.secret_store, currency=currency, deposit=deposit, lang=lang)
    assert parse_qs(urlsplit(game.launch_url).query)["lang"] == [lang]
    token = token_of(game.launch_url)

    page.goto(game.launch_url)
    assert page.evaluate("document.documentElement.lang") == lang
    shown = wait_for_commitment(page)
    assert shown == player_state(local_stack, token)["next_server_seed_hash"]
    wait_for_bet_enabled(page)
    assert re.fullmatch(balance_pattern, page.locator("#balance").inner_text()), page.locator("#balance").inner_text()

    drawn = 0
    for attempt in range(15):
        shown = shown_hash(page)
        sent, answer = bet(page, amount)
        assert answer.status == 200, answer.text()
        placed = answer.json()
        assert sent["server_seed_hash"] == shown == placed["server_seed_hash"]  # the bet names what the page shows
        round_id = placed["round_id"]
        wait_until(lambda: page.locator("#stage").get_attribute("data-round-id") == round_id, "the answer")  # noqa: B023
        assert shown_hash(page) == placed["next_server_seed_hash"] != shown  # the next one, shown at once
        if phase_of(page) == "open":
            page.wait_for_timeout(700)
            drawn = max(drawn, page.evaluate(CANVAS_INK))
            if attempt == 0:
                shot(page, f"{lang}-{size}-in-play")
            with contextlib.suppress(PlaywrightTimeout):  # it crashed between the check and the click: lost
                page.locator("#cashout").click(timeout=2_000)
        wait_until(lambda: phase_of(page) in ("won", "crashed"), "the round to end")
        settled = next(r for r in player_state(local_stack, token)["rounds"] if r["round_id"] == placed["round_id"])
        assert settled["server_seed_hash"] == shown
        assert fairness.seed_hash(settled["server_seed"]) == shown  # the revealed seed is the one committed to
        page.wait_for_selector(f"tr[data-round-id='{placed['round_id']}'][data-shown='match']")
        assert page.locator("#hash-check").get_attribute("data-result") == "match"
        strip = page.locator(f"#strip li[data-round-id='{placed['round_id']}']")
        assert strip.inner_text() == settled["crash_point"] + "\u00d7"
        cents = round(float(settled["crash_point"]) * 100)
        assert strip.get_attribute("class") == ("low" if cents < 200 else "mid" if cents < 1000 else "high")
        if phase_of(page) == "won":
            break
        wait_for_bet_enabled(page)
    else:
        raise AssertionError("no round could be cashed out in 15 tries")
    assert drawn > 60, "the curve is drawn on the canvas while the round is open"
    # (a cleared canvas has no ink at all; a curve cashed out early on a phone's canvas has ~300 pixels, fewer
    # when the round flew briefly: 287 in one loaded run)
    assert page.evaluate(CANVAS_INK) > 100, "the finished round's curve stays drawn"
    assert page.locator("#strip li").first.get_attribute("data-round-id") == placed["round_id"]  # newest first

    seconds = int(page.locator("#elapsed").get_attribute("data-seconds") or "-1")
    assert seconds >= 1
    assert re.fullmatch(r"\d\d:\d\d:\d\d", page.locator("#elapsed").inner_text())
    wait_until(lambda: int(page.locator("#elapsed").get_attribute("data-seconds")) > seconds, "the session time")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no horizontal scroll"
    assert re.fullmatch(balance_pattern, page.locator("#balance").inner_text())

    texts = page.evaluate("CroupierGameText")
    visible = page.locator("body").inner_text()
    if lang == "ko":
        leftovers = [
            fragment
            for text in texts["en"].values()
            for fragment in (part.strip(" .,:()…") for part in re.split(r"\{\w+\}", text))
            if len(fragment) >= 4 and fragment in visible
        ]
        assert leftovers == [], "English on the Korean page"
    for key in ("heading", "balance", "sessionTime", "commitmentTitle", "lastCrashes", "lastRounds", "betButton"):
        assert texts[lang][key] in visible
    assert page.locator(f"tr[data-round-id='{placed['round_id']}'] a.verify").inner_text() == texts[lang]["verify"]
    readme = {("en", "desktop"): "game.png", ("ko", "phone"): "game-phone-ko.png"}.get((lang, size))
    shot(page, f"{lang}-{size}-settled", readme=readme)

    if (lang, size) == ("en", "desktop"):  # the round's link: the verifier checks the hash shown before the bet too
        href = page.locator(f"tr[data-round-id='{placed['round_id']}'] a.verify").get_attribute("href")
        linked = json.loads(parse_qs(urlsplit(href).fragment)["round"][0])
        assert linked["shown_server_seed_hash"] == linked["server_seed_hash"] == shown
        verifier = page.context.new_page()
        try:
            verifier.set_viewport_size(SIZES[size])
            verifier.goto(local_stack.base_url + href)
            verifier.wait_for_selector("#verdict[data-result='match']")
            assert verifier.locator("tr[data-check='shown before the bet'] td").last.inner_text() == "MATCH"
            assert "shown before the bet" in verifier.locator("#verdict").inner_text()
            shot(verifier, "verified", readme="verifier.png")
        finally:
            verifier.close()
    assert violations == []


def test_every_text_is_in_the_table_in_both_languages_and_used(local_stack: LocalStack, page: Any) -> None:
    page.goto(f"{local_stack.base_url}/play?lang=ko")
    texts = page.evaluate("CroupierGameText")
    assert set(texts) == {"en", "ko"}
    assert texts["en"].keys() == texts["ko"].keys()
    table_end = PAGE_SOURCE.index("const STATUS_TEXT")
    code = PAGE_SOURCE[: PAGE_SOURCE.index("const TEXT")] + PAGE_SOURCE[table_end:]
    unused = [key for key in texts["ko"] if f'"{key}"' not in code]
    assert unused == []
    for key, text in texts["ko"].items():
        assert text.strip(), key
        assert sorted(re.findall(r"\{\w+\}", text)) == sorted(re.findall(r"\{\w+\}", texts["en"][key])), key
    assert re.search(r"[\uac00-\ud7a3]", "".join(texts["ko"].values()))
    # without a session: the Korean message, the Korean page
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.locator("#message").inner_text() == texts["ko"]["noSession"]
    assert page.title() == texts["ko"]["title"]
    page.goto(f"{local_stack.base_url}/play?lang=xx")  # an unknown language: English
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#message").inner_text() == texts["en"]["noSession"]


def test_the_bet_is_not_usable_before_a_commitment_is_shown(local_stack: LocalStack, page: Any) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    withheld = [True]

    def state_without_commitment(route: Any) -> None:
        response = route.fetch()
        data = response.json()
        if withheld[0]:
            del data["next_server_seed_hash"]
        route.fulfill(response=response, json=data)

    page.route("**/rgs/play/state", state_without_commitment)
    page.goto(game.launch_url)
    wait_until(lambda: page.locator("#balance").get_attribute("data-minor") == "100000", "the balance")
    assert shown_hash(page) == ""
    assert page.locator("#bet").is_disabled()
    withheld[0] = False
    wait_for_commitment(page)  # at the next read (3 s)
    wait_for_bet_enabled(page)
    assert page.locator("#bet").is_enabled()


def test_a_commitment_swapped_between_display_and_bet_is_never_bet_against(
    local_stack: LocalStack, real_client: Any, page: Any, shot: Screenshots
) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    token = token_of(game.launch_url)
    page.goto(game.launch_url)
    shown = wait_for_commitment(page)
    wait_for_bet_enabled(page)

    frozen = [True]

    def state_as_shown(route: Any) -> None:  # until the bet leaves, the page's reads still say what it showed
        response = route.fetch()
        data = response.json()
        if frozen[0]:
            data["next_server_seed_hash"] = shown
        route.fulfill(response=response, json=data)

    def bet_leaves(route: Any) -> None:
        frozen[0] = False
        route.continue_()

    page.route("**/rgs/play/state", state_as_shown)
    page.route("**/rgs/play/bet", bet_leaves)
    swapped = swap_commitment(real_client, token)
    assert player_state(local_stack, token)["next_server_seed_hash"] == swapped

    sent, answer = bet(page, "1.00")
    assert sent["server_seed_hash"] == shown, "the page bets against the hash it shows, nothing else"
    assert (answer.status, answer.json()["error"]) == (409, "COMMITMENT_CHANGED")
    wait_until(lambda: shown_hash(page) == swapped, "the new commitment to be shown")
    assert page.locator("#message").get_attribute("data-kind") == "error"
    assert "commitment changed" in page.locator("#message").inner_text()
    assert page.locator("#commitment-box").get_attribute("data-changed") == "true"
    assert player_state(local_stack, token)["rounds"] == [], "nothing was played"
    wait_for_bet_enabled(page)
    shot(page, "commitment-changed")

    sent, answer = bet(page, "1.00")  # again, against the commitment now shown
    assert answer.status == 200, answer.text()
    assert sent["server_seed_hash"] == swapped == answer.json()["server_seed_hash"]


def test_a_round_whose_hash_is_not_the_one_shown_is_warned_and_the_verifier_flags_it(
    local_stack: LocalStack, page: Any, shot: Screenshots
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    game = demo.run(local_stack.base_url, local_stack.secret_store)
    page.goto(game.launch_url)
    shown = wait_for_commitment(page)
    wait_for_bet_enabled(page)
    other = fairness.seed_hash("a seed the server switched to after showing its commitment")
    switched: set[str] = set()

    def bet_answer(route: Any) -> None:  # a server that played another seed than the one it showed
        response = route.fetch()
        data = response.json()
        switched.add(data["round_id"])
        data["server_seed_hash"] = other
        route.fulfill(response=response, json=data)

    def state_answer(route: Any) -> None:
        response = route.fetch()
        data = response.json()
        for round_view in data["rounds"]:
            if round_view["round_id"] in switched:
                round_view["server_seed_hash"] = other
        route.fulfill(response=response, json=data)

    page.route("**/rgs/play/bet", bet_answer)
    page.route("**/rgs/play/state", state_answer)
    sent, _ = bet(page, "1.00")
    assert sent["server_seed_hash"] == shown
    (round_id,) = switched
    page.wait_for_selector("#hash-warning:not([hidden])")
    warning = page.locator("#hash-warning").inner_text()
    assert "not the commitment shown before its bet" in warning
    assert shown[:12] in warning
    assert other[:12] in warning
    assert page.locator("#hash-check").get_attribute("data-result") == "mismatch"
    with contextlib.suppress(PlaywrightTimeout):  # settle it now (it may have crashed already)
        page.locator("#cashout").click(timeout=2_000)
    wait_until(lambda: phase_of(page) in ("won", "crashed"), "the round to end", timeout=200)
    page.wait_for_selector(f"tr[data-round-id='{round_id}'][data-shown='mismatch'] a.verify")
    assert page.locator("#hash-warning").is_visible()
    assert page.locator("#hash-check").get_attribute("data-result") == "mismatch"  # whatever answer came last
    shot(page, "hash-warning")

    href = page.locator(f"tr[data-round-id='{round_id}'] a.verify").get_attribute("href")
    verifier = page.context.new_page()
    try:
        verifier.goto(local_stack.base_url + href)
        verifier.wait_for_selector("#verdict[data-result='mismatch']")
        assert verifier.locator("#shown_server_seed_hash").input_value() == shown
        assert "Commitment mismatch" in verifier.locator("#problems").inner_text()
        assert verifier.locator("tr[data-check='shown before the bet'] td").last.inner_text() == "MISMATCH"
        shot(verifier, "commitment-mismatch")
    finally:
        verifier.close()


def test_the_hashes_shown_are_kept_for_the_last_200_rounds(local_stack: LocalStack, page: Any) -> None:
    game = demo.run(local_stack.base_url, local_stack.secret_store)
    page.goto(game.launch_url)
    shown = wait_for_commitment(page)
    wait_for_bet_enabled(page)
    earlier = [f"r_{index:032x}" for index in range(200)]  # 200 rounds remembered by earlier visits
    page.evaluate(
        """(ids) => localStorage.setItem("croupier.crash.shown-hashes",
             JSON.stringify({order: ids, hashes: Object.fromEntries(ids.map((id) => [id, "ab".repeat(32)]))}))""",
        earlier,
    )
    _, answer = bet(page, "1.00")
    assert answer.status == 200, answer.text()
    kept = page.evaluate("""JSON.parse(localStorage.getItem("croupier.crash.shown-hashes"))""")
    assert len(kept["order"]) == len(kept["hashes"]) == 200
    assert kept["order"] == [*earlier[1:], answer.json()["round_id"]]  # the oldest made way
    assert kept["hashes"][answer.json()["round_id"]] == shown
