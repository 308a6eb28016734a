"""Post new findings to a chat webhook: a JSON body Slack, Mattermost and Teams accept.

The body carries ``text`` (what Slack and Mattermost show) and the findings themselves in
the contract's shape, for tools that read JSON. Sent with the standard library: a
notification should not need an extra installed.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from tradesentry.errors import TradesentryError
from tradesentry.findings import Findings
from tradesentry.monitor import words
from tradesentry.text import json_text, printable

TIMEOUT_SECONDS = 10.0
TEXT_FINDINGS = 5  # findings spelt out in the text; all of them are in "findings"
#: what a resolved finding carries: which finding of which series (its id, kind and month
#: alone named no series), and what it had said of the money
RESOLVED_KEYS = (
    "id", "kind", "reporter", "partner", "flow", "classification", "commodity", "breakdown",
    "freq", "period", "period_end", "severity", "impact", "currency",
)  # fmt: skip


class WebhookError(TradesentryError):
    """The webhook did not answer 2xx (the watcher retries, then keeps the message)."""


def payload(new: Findings, resolved: Findings | None = None, releases: list[dict] = ()) -> dict:
    """The body for one watch cycle: {"text", "findings", "resolved", "releases"}."""
    records = sorted(new.to_records(), key=lambda r: -(r["impact"] or 0.0))
    gone = resolved.to_records() if resolved is not None else []
    return {
        "text": summary(records, gone, list(releases)),
        "findings": records,
        "resolved": [{k: r.get(k) for k in RESOLVED_KEYS} for r in gone],
        "releases": list(releases),
    }


def summary(records: list[dict], gone: list[dict], releases: list[dict]) -> str:
    """A few lines of chat text: what landed, how many new findings, the largest ones (each
    record names its series' classification and breakdown)."""
    # a file name's line breaks as escapes: Markdown's link definitions start a line
    landed = ", ".join(f"release {r['id']} ({printable(r['file'])})" for r in releases)
    head = f"tradesentry: {words.count(len(records), 'new finding')}"
    if gone:
        head += f", {len(gone):,} resolved"
    lines = [head + (f" after {landed}" if landed else "") + "."]
    for r in records[:TEXT_FINDINGS]:
        stake = words.money(r["impact"], r["currency"] or "USD", approx=True)
        lines.append(
            f"• {words.headline(r)} ({r['severity']}, {stake} at stake). {r['explanation']}"
        )
    if len(records) > TEXT_FINDINGS:
        lines.append(f"… and {len(records) - TEXT_FINDINGS:,} more in `findings`.")
    if gone:
        listed = "; ".join(words.headline(r) for r in gone[:TEXT_FINDINGS])
        more = f"; and {len(gone) - TEXT_FINDINGS:,} more" if len(gone) > TEXT_FINDINGS else ""
        lines.append(f"Resolved: {listed}{more}.")
    return chat_escaped("\n".join(lines))


def chat_escaped(text: str) -> str:
    """``text`` with &, < and > escaped as Slack asks of a message's text (a file named
    ``<!channel>`` or ``<https://x|click here>`` would notify everyone or hide a link), and
    a zero-width space after each @ (Mattermost and Rocket.Chat notify on ``@channel``,
    ``@all`` and ``@here`` written plainly) and between ``]`` and ``(`` (Mattermost and
    Teams read Markdown: a code ``[click here](https://…)`` was a disguised link, and
    ``![x](https://…)`` an image each reader's client loads); the text reads the same."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@\u200b").replace("](", "]\u200b(")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an error, not followed: urllib would turn the POST into a GET without its
    body (and to any host the answer names), and the message was lost as "posted"."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: dict, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST ``body`` as JSON; the HTTP status on 2xx, WebhookError otherwise."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise WebhookError(f"webhook {url!r}: expected an http:// or https:// URL")
    data = json_text(body).encode("utf-8")  # C1 escaped, as in the digest's JSON
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "tradesentry"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        moved = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        to = f" (a redirect to {printable(moved)}, not followed)" if moved else ""
        raise WebhookError(f"webhook answered HTTP {exc.code} {exc.reason}{to}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"webhook unreachable: {reason}") from exc
