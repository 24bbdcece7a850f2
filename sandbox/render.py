"""Server-side rendering of the fake chats into small HTML fragments.

Telegram never echoes markup back: fakegram keeps what the bot sent as plain text plus
entities (UTF-16 offsets, as in the Bot API). We rebuild the formatting from the entities
and nothing else: every character of the text is escaped first, then only the tags this
module writes are added, so a customer called `<script>` shows as text. Links get an
`href` only for http(s)/tg/mailto URLs; a `t.me/<our bot>?start=...` link becomes a
"deep link" the page can open as any simulated user.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from fakegram import ChatMessage
from fakegram.payments import format_amount

Entity = dict[str, Any]

_SIMPLE_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ('<code class="pre">', "</code>"),
    "blockquote": ('<span class="quote">', "</span>"),
    "expandable_blockquote": ('<span class="quote">', "</span>"),
    "mention": ('<span class="mention">', "</span>"),
    "hashtag": ('<span class="mention">', "</span>"),
    "cashtag": ('<span class="mention">', "</span>"),
    "text_mention": ('<span class="mention">', "</span>"),
    "phone_number": ('<span class="phone">', "</span>"),
}
_LINK_TYPES = frozenset({"text_link", "url", "email", "bot_command", "mention", "text_mention", "code", "pre"})
# Telegram apps make /commands in any message tappable, entity or not.
_COMMAND_RE = re.compile(r"(?<![^\s(«\"'])/[A-Za-z][A-Za-z0-9_]{0,31}(?![\w/])")
# Telegram also makes bare links tappable (its server adds `url` entities to what a bot sends):
# http(s) URLs, and t.me links written without the scheme. Trailing punctuation is not part of them.
_URL_RE = re.compile(r"(?<![\w/@.])(?:https?://|(?:www\.)?(?:t|telegram)\.me/)[^\s<>\"«»]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?)'»"
_PLAIN_RE = re.compile(f"(?P<url>{_URL_RE.pattern})|(?P<command>{_COMMAND_RE.pattern})", re.IGNORECASE)
_SAFE_SCHEMES = frozenset({"http", "https", "tg", "mailto"})
_TELEGRAM_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def deep_link_payload(url: str, bot_username: str) -> str | None:
    """`start` payload of a `https://t.me/<bot_username>?start=...` link, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.hostname not in _TELEGRAM_HOSTS:
        return None
    if parts.path.strip("/").lower() != bot_username.lower():
        return None
    values = parse_qs(parts.query).get("start")
    return values[0] if values else None


def link_open(url: str, bot_username: str) -> str:
    """The opening `<a ...>` for *url*, or a harmless `<span>` for unsafe schemes."""
    url = url.strip()
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    payload = deep_link_payload(url, bot_username)
    if payload is not None:
        return (f'<a class="deeplink" href="{esc(url)}" data-start="{esc(payload)}" '
                f'title="open this link as one of the simulated users">')
    if scheme in _SAFE_SCHEMES:
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
    return '<span class="badlink">'


def _utf16_slice(encoded: bytes, start: int, end: int) -> str:
    return encoded[start * 2:end * 2].decode("utf-16-le", errors="replace")


def _tags(entity: Entity, full_text: str, bot_username: str) -> tuple[str, str]:
    kind = entity.get("type")
    if kind in _SIMPLE_TAGS:
        return _SIMPLE_TAGS[kind]
    if kind == "text_link":
        opening = link_open(str(entity.get("url", "")), bot_username)
    elif kind == "url":
        target = full_text if "://" in full_text else f"https://{full_text}"
        opening = link_open(target, bot_username)
    elif kind == "email":
        opening = link_open(f"mailto:{full_text}", bot_username)
    elif kind == "bot_command":
        command = full_text.split("@", 1)[0]
        opening = f'<a class="command" href="#" data-command="{esc(command)}">'
    else:  # custom_emoji and anything new: show the text as is
        return "", ""
    return opening, "</span>" if opening.startswith("<span") else "</a>"


def _linked(raw: str, bot_username: str) -> str:
    """Escaped *raw* with each /command and each bare URL made a link (matched on the raw
    text, escaped after), as Telegram apps show a message without entities for them."""
    out, last = [], 0
    for match in _PLAIN_RE.finditer(raw):
        if match.group("url"):
            url = match.group(0).rstrip(_URL_TAIL)
            end = match.start() + len(url)
            target = url if "://" in url else f"https://{url}"
            opening = link_open(target, bot_username)
            closing = "</span>" if opening.startswith("<span") else "</a>"
            out.append(esc(raw[last:match.start()]))
            out.append(f"{opening}{esc(url)}{closing}")
            last = end
        else:
            command = esc(match.group(0))
            out.append(esc(raw[last:match.start()]))
            out.append(f'<a class="command" href="#" data-command="{command}">{command}</a>')
            last = match.end()
    out.append(esc(raw[last:]))
    return "".join(out)


def render_text(text: str | None, entities: Iterable[Entity] | None, bot_username: str) -> str:
    """Escaped *text* with the formatting of *entities* (UTF-16 offsets) as HTML tags.

    The text is cut at every entity boundary and each piece is wrapped in the tags of
    the entities covering it, outermost first: the result is always well nested.
    """
    if not text:
        return ""
    encoded = text.encode("utf-16-le")
    total = len(encoded) // 2
    spans = []
    for entity in entities or ():
        start = max(0, int(entity.get("offset", 0)))
        end = min(total, start + max(0, int(entity.get("length", 0))))
        if end > start:
            spans.append((start, end, entity))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    cuts = sorted({0, total, *(s[0] for s in spans), *(s[1] for s in spans)})
    out: list[str] = []
    for left, right in itertools.pairwise(cuts):
        raw = _utf16_slice(encoded, left, right)
        covering = [s for s in spans if s[0] <= left and s[1] >= right]
        piece = esc(raw) if any(s[2].get("type") in _LINK_TYPES for s in covering) else _linked(raw, bot_username)
        for start, end, entity in reversed(covering):
            opening, closing = _tags(entity, _utf16_slice(encoded, start, end), bot_username)
            piece = f"{opening}{piece}{closing}"
        out.append(piece)
    return "".join(out)


@dataclass(frozen=True)
class RenderContext:
    bot_username: str
    tz: ZoneInfo
    qr_links: dict[str, str]  # file_id of a bot photo -> the QR text decoded from it


def _file_url(file_id: str) -> str:
    return f"/files/{esc(file_id)}"


def _inline_button(msg: ChatMessage, row: int, col: int, button: dict[str, Any], ctx: RenderContext) -> str:
    label = esc(button.get("text", ""))
    if "url" in button:
        opening = link_open(str(button["url"]), ctx.bot_username)
        closing = "</span>" if opening.startswith("<span") else "</a>"
        return opening.replace(' class="', ' class="btn ', 1).replace("<a href", '<a class="btn" href', 1) \
            + f"{label} ↗{closing}"
    if "callback_data" in button:
        return (f'<button type="button" class="btn" data-action="press" data-mid="{msg.message_id}" '
                f'data-row="{row}" data-col="{col}">{label}</button>')
    kind = next((k for k in button if k != "text"), "unsupported")
    return f'<button type="button" class="btn" disabled title="{esc(kind)} buttons are not simulated">{label}</button>'


def render_inline_keyboard(msg: ChatMessage, ctx: RenderContext) -> str:
    if msg.keyboard_type != "inline" or msg.deleted:
        return ""
    rows = []
    for r, row in enumerate(msg.buttons):
        cells = "".join(_inline_button(msg, r, c, b, ctx) for c, b in enumerate(row))
        rows.append(f'<div class="kb-row">{cells}</div>')
    return f'<div class="ikb">{"".join(rows)}</div>'


def render_reply_keyboard(markup: dict[str, Any] | None) -> str:
    """The chat's current reply keyboard (under the text box), or ""."""
    if not markup or "keyboard" not in markup:
        return ""
    rows = []
    for r, row in enumerate(markup["keyboard"]):
        cells = []
        for c, button in enumerate(row):
            button = button if isinstance(button, dict) else {"text": str(button)}
            extra = " contact" if button.get("request_contact") else ""
            icon = "📱 " if button.get("request_contact") and "📱" not in str(button.get("text", "")) else ""
            cells.append(f'<button type="button" class="btn key{extra}" data-action="key" data-row="{r}" '
                         f'data-col="{c}">{icon}{esc(button.get("text", ""))}</button>')
        rows.append(f'<div class="kb-row">{"".join(cells)}</div>')
    placeholder = markup.get("input_field_placeholder")
    hint = f'<div class="hint">{esc(placeholder)}</div>' if placeholder else ""
    return f'<div class="rkb">{hint}{"".join(rows)}</div>'


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} B"


def _media(msg: ChatMessage, ctx: RenderContext) -> str:
    raw, stored = msg.raw, msg.file
    if stored is None:
        if "contact" in raw:
            contact = raw["contact"]
            who = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
            return f'<div class="contact">📱 {esc(contact.get("phone_number", ""))} · {esc(who)}</div>'
        return ""
    if "photo" in raw:
        url = _file_url(stored.file_id)
        out = f'<a href="{url}" target="_blank"><img class="photo" src="{url}" alt="photo"></a>'
        qr = ctx.qr_links.get(stored.file_id)
        if qr:
            payload = deep_link_payload(qr, ctx.bot_username)
            opening = link_open(qr, ctx.bot_username)
            closing = "</span>" if opening.startswith("<span") else "</a>"
            label = f"start={payload}" if payload else qr
            out += f'<div class="qr">QR: {opening}{esc(label)}{closing}</div>'
        if msg.from_bot:
            out += (f'<div class="qr"><a href="#" class="forward" data-mid="{msg.message_id}">'
                    "переслать это фото…</a></div>")
        return out
    name = msg.document_name or stored.file_name or stored.kind
    return (f'<a class="doc" href="{_file_url(stored.file_id)}" download="{esc(name)}">'
            f"📄 {esc(name)} · {_size(stored.size)}</a>")


def render_message(msg: ChatMessage, ctx: RenderContext) -> str:
    """One chat bubble: media, formatted text, inline keyboard, time."""
    side = "bot" if msg.from_bot else "user"
    classes = ["msg", side] + (["edited"] if msg.edited else []) + (["deleted"] if msg.deleted else [])
    body = render_text(msg.content, msg.entities, ctx.bot_username)
    if msg.invoice:  # what Telegram shows: the product, its description and the total
        inv = msg.invoice
        body = (f'<div class="invoice"><b>{esc(inv["title"])}</b><br>{esc(inv["description"])}<br>'
                f'{esc(format_amount(int(inv["total_amount"]), str(inv["currency"])))}</div>')
    elif msg.successful_payment:
        paid = msg.successful_payment
        body = f'<span class="muted">✅ {esc(format_amount(int(paid["total_amount"]), str(paid["currency"])))}</span>'
    if not body and msg.kind not in ("text", "photo", "document", "contact"):
        body = f'<span class="muted">[{esc(msg.kind)}]</span>'
    when = datetime.fromtimestamp(msg.date, UTC).astimezone(ctx.tz).strftime("%d.%m %H:%M")
    sender = ""
    if msg.chat_id < 0 and not msg.from_bot:  # in a group, say who wrote
        sender = f'<div class="sender">{esc((msg.raw.get("from") or {}).get("first_name", ""))}</div>'
    flags = (" · edited" if msg.edited else "") + (" · deleted" if msg.deleted else "")
    return (f'<div class="{" ".join(classes)}" id="m-{msg.chat_id}-{msg.message_id}" data-mid="{msg.message_id}">'
            f"{sender}{_media(msg, ctx)}"
            + (f'<div class="text">{body}</div>' if body else "")
            + render_inline_keyboard(msg, ctx)
            + f'<div class="meta">{when}{flags}</div></div>')
