"""GET /play and GET /verify: the crash game's page and its fairness verifier. Static HTML; no table, no secret.

Each page is one self-contained file beside this module (packaged with the function): its one inline
``<script>`` and one ``<style>`` are allowed by their SHA-256 in the Content-Security-Policy, so no
'unsafe-inline' is needed and the verifier still works saved to disk. The game runs inside the operator's
iframe: ``frame-ancestors`` is the operator's ``allowed_origins`` (``*`` without them), found from the session of
the token in the URL (one read of the session, the operator's settings cached; never a secret). The token is in
the launch URL, so no page sends a referrer.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from croupier.rgs.wiring import sessions
from croupier.web import function

app, handler = function()

HERE = Path(__file__).resolve().parent
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _sources(kind: str, blocks: list[str]) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode() + "'" for block in blocks
    )
    return f"{kind} {hashes}" if hashes else f"{kind} 'none'"


@lru_cache(maxsize=64)
def page(name: str, connect: str, ancestors: str = "*") -> tuple[str, dict[str, str]]:
    """The page's HTML and its headers, read and hashed once per execution environment (and framing policy)."""
    html = (HERE / name).read_text(encoding="utf-8")
    policy = "; ".join(
        [
            "default-src 'none'",
            _sources("script-src", _SCRIPT.findall(html)),
            _sources("style-src", _STYLE.findall(html)),
            "img-src data:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",  # operators embed the game in an iframe on their own sites
        ]
    )
    headers = {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",  # the launch URL carries the session token
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return html, headers


def html_response(name: str, connect: str, ancestors: str = "*") -> Response[str]:
    html, headers = page(name, connect, ancestors)
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=html, headers=headers)


@app.get("/play")
def play() -> Response[str]:
    token = (app.current_event.query_string_parameters or {}).get("session", "")
    # the game calls /rgs/play/* on this API, nothing else; only its operator's sites may frame it
    return html_response("play.html", "'self'", sessions().frame_ancestors(token))


@app.get("/verify")
def verify() -> Response[str]:
    return html_response("verify.html", "'none'")  # the verifier never calls a server
