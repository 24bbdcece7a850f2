"""Turn ``text`` + ``parse_mode`` into Telegram's plain text + ``entities``.

Real Telegram never echoes markup back: a message sent with ``parse_mode=HTML`` comes
back as plain text plus a list of ``MessageEntity`` objects, and malformed markup is
rejected with ``400 Bad Request: can't parse entities: ...``. The fake does the same so
that tests see what users see (no stray ``<b>`` in assertions) and so that bugs such as
an unescaped ``<`` in a customer's name, or an unescaped ``.`` in MarkdownV2, fail in
tests exactly like they would fail in production.

Offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

Entity = dict[str, Any]

__all__ = [
    "Entity",
    "detect_entities",
    "parse_text",
    "utf16_len",
]


def utf16_len(text: str) -> int:
    """Length of *text* in UTF-16 code units (the unit of entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    # Telegram reports parse errors at UTF-8 byte offsets of the original string.
    return len(source[:index].encode("utf-8"))


def _cant_parse(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


@dataclass
class _Builder:
    """Accumulates plain text and tracks the UTF-16 position while parsing."""

    parts: list[str] = field(default_factory=list)
    pos: int = 0
    entities: list[Entity] = field(default_factory=list)

    def emit(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def add(self, start: int, kind: str, **extra: Any) -> None:
        length = self.pos - start
        if length > 0:  # Telegram silently drops empty entities
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[Entity]]:
        return "".join(self.parts), sorted(
            self.entities, key=lambda e: (e["offset"], -e["length"])
        )


# --------------------------------------------------------------------------- HTML

_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only with class="tg-spoiler", checked below
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR_RE = re.compile(r"""\s*([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


# The Bot API supports all numeric character references but only these named ones;
# anything else (``&nbsp;``, ``&copy;``, ``&ampx;``) stays literal text.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_entity(name: str) -> str | None:
    """The character for ``&name;``, or ``None`` if Telegram would not decode it."""
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    match = re.fullmatch(r"#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}))", name)
    if match is None:
        return None
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _unescape_attr(value: str) -> str:
    return re.sub(
        r"&([^;&]{1,10});", lambda m: _html_entity(m.group(1)) or m.group(0), value
    )


def _parse_html(source: str) -> tuple[str, list[Entity]]:
    """A small re-implementation of TDLib's HTML parser (same acceptance rules)."""
    out = _Builder()
    # Each open tag: (tag name, entity start, entity type, extra fields)
    stack: list[tuple[str, int, str, dict[str, Any]]] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            end = source.find(";", i, i + 12)
            decoded = _html_entity(source[i + 1 : end]) if end != -1 else None
            if decoded is not None:
                out.emit(decoded)
                i = end + 1
                continue
            out.emit("&")  # unknown entity: kept literally, like Telegram
            i += 1
            continue
        if ch != "<":
            out.emit(ch)
            i += 1
            continue
        close = source.find(">", i)
        if close == -1:
            raise _cant_parse(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
        body = source[i + 1 : close]
        if body.startswith("/"):
            name = body[1:].strip().lower()
            if not stack:
                raise _cant_parse(
                    f"Unexpected end tag at byte offset {_byte_offset(source, i)}"
                )
            open_name, start, kind, closed_extra = stack.pop()
            if name and name != open_name:
                raise _cant_parse(
                    f'Unmatched end tag at byte offset {_byte_offset(source, i)}, '
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            if kind == "code" and stack and stack[-1][2] == "pre":
                # <pre><code class="language-x"> becomes one pre entity with a language
                if "language" in closed_extra:
                    stack[-1][3]["language"] = closed_extra["language"]
            else:
                out.add(start, kind, **closed_extra)
            i = close + 1
            continue
        match = re.match(r"([a-zA-Z0-9-]*)", body)
        name = match.group(1).lower() if match else ""
        if name not in _HTML_TAGS:
            raise _cant_parse(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, i)}'
            )
        attrs: dict[str, str] = {}
        for m in _ATTR_RE.finditer(body[len(name) :]):
            if m.group(1):
                attrs[m.group(1).lower()] = _unescape_attr(
                    m.group(2) or m.group(3) or m.group(4) or ""
                )
        kind = _HTML_TAGS[name]
        extra: dict[str, Any] = {}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _cant_parse(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(source, i)}"
            )
        if name == "a":
            href = attrs.get("href", "")
            user_match = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if user_match:
                kind = "text_mention"
                extra["user"] = {
                    "id": int(user_match.group(1)),
                    "is_bot": False,
                    "first_name": "User",
                }
            elif href:
                extra["url"] = href
            else:
                kind = ""  # <a> without href is just text
        elif name == "code" and attrs.get("class", "").startswith("language-"):
            extra["language"] = attrs["class"][len("language-") :]
        elif name == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        elif name == "tg-emoji":
            extra["custom_emoji_id"] = attrs.get("emoji-id", "")
        stack.append((name, out.pos, kind, extra))
        i = close + 1
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    text, entities = out.result()
    return text, [e for e in entities if e["type"]]


# ------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (entity type, start, source index)
    i, n = 0, len(source)

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        for idx in range(len(stack) - 1, -1, -1):
            if stack[idx][0] == kind:
                _, start, _src = stack.pop(idx)
                out.add(start, kind)
                break
        else:
            stack.append((kind, out.pos, i))
        i += width

    while i < n:
        ch = source[i]
        if ch == "\\":
            if i + 1 < n and 0 < ord(source[i + 1]) < 127:
                out.emit(source[i + 1])
                i += 2
                continue
            raise _cant_parse(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if source.startswith("```", i):
            nl = source.find("\n", i + 3)
            end = source.find("```", i + 3)
            if end == -1:
                raise _cant_parse(
                    f"Can't find end of Pre entity at byte offset {_byte_offset(source, i)}"
                )
            language = ""
            body_start = i + 3
            if nl != -1 and nl < end:
                language = source[i + 3 : nl].strip()
                body_start = nl + 1
            start = out.pos
            out.emit(re.sub(r"\\([`\\])", r"\1", source[body_start:end]))
            out.add(start, "pre", **({"language": language} if language else {}))
            i = end + 3
            continue
        if ch == "`":
            end = i + 1
            while end < n and source[end] != "`":
                end += 2 if source[end] == "\\" else 1
            if end >= n:
                raise _cant_parse(
                    f"Can't find end of Code entity at byte offset {_byte_offset(source, i)}"
                )
            start = out.pos
            out.emit(re.sub(r"\\([`\\])", r"\1", source[i + 1 : end]))
            out.add(start, "code")
            i = end + 1
            continue
        if source.startswith("||", i):
            toggle("spoiler", 2)
            continue
        if source.startswith("__", i):
            toggle("underline", 2)
            continue
        if ch == "_":
            toggle("italic", 1)
            continue
        if ch == "*":
            toggle("bold", 1)
            continue
        if ch == "~":
            toggle("strikethrough", 1)
            continue
        if ch == "[" or source.startswith("![", i):
            width = 2 if ch == "!" else 1
            stack.append(("link" if width == 1 else "emoji", out.pos, i))
            i += width
            continue
        if ch == "]":
            link_idx = next(
                (k for k in range(len(stack) - 1, -1, -1) if stack[k][0] in ("link", "emoji")),
                None,
            )
            if link_idx is None or not source.startswith("(", i + 1):
                raise _cant_parse(
                    "Character ']' is reserved and must be escaped with the preceding '\\'"
                )
            end = i + 2
            while end < n and source[end] != ")":
                end += 2 if source[end] == "\\" else 1
            if end >= n:
                raise _cant_parse(
                    f"Can't find end of a URL at byte offset {_byte_offset(source, i)}"
                )
            url = re.sub(r"\\([)\\])", r"\1", source[i + 2 : end])
            kind, start, _src = stack.pop(link_idx)
            if kind == "emoji":
                out.add(start, "custom_emoji", custom_emoji_id=url.rpartition("=")[2])
            else:
                out.add(start, "text_link", url=url)
            i = end + 1
            continue
        if ch == ">" and (i == 0 or source[i - 1] == "\n"):
            # A quoted line; consecutive quoted lines merge into one blockquote.
            line_end = source.find("\n", i)
            line_end = n if line_end == -1 else line_end
            start = out.pos
            inner_text, inner_entities = _parse_markdown_v2(source[i + 1 : line_end])
            for ent in inner_entities:
                out.entities.append({**ent, "offset": ent["offset"] + start})
            out.emit(inner_text)
            if (
                out.entities
                and out.entities[-1]["type"] == "blockquote"
                and out.entities[-1]["offset"] + out.entities[-1]["length"] + 1 == start
            ):
                out.entities[-1]["length"] = out.pos - out.entities[-1]["offset"]
            else:
                out.add(start, "blockquote")
            i = line_end
            continue
        if ch in _MDV2_RESERVED:
            raise _cant_parse(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.emit(ch)
        i += 1
    if stack:
        kind, _start, src = stack[-1]
        names = {
            "bold": "Bold",
            "italic": "Italic",
            "underline": "Underline",
            "strikethrough": "Strikethrough",
            "spoiler": "Spoiler",
            "link": "TextUrl",
            "emoji": "CustomEmoji",
        }
        raise _cant_parse(
            f"Can't find end of {names.get(kind, kind)} entity at byte offset "
            f"{_byte_offset(source, src)}"
        )
    return out.result()


# --------------------------------------------------------------- legacy Markdown


def _parse_markdown(source: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    i, n = 0, len(source)
    markers = {"*": "bold", "_": "italic"}
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.emit(source[i + 1])
            i += 2
            continue
        if ch in markers or ch == "`" or ch == "[":
            if source.startswith("```", i):
                end = source.find("```", i + 3)
                closing, kind, body_start, width = end, "pre", i + 3, 3
            elif ch == "[":
                end = source.find("]", i + 1)
                closing, kind, body_start, width = end, "text_link", i + 1, 1
            else:
                end = source.find(ch, i + 1)
                closing, kind, body_start, width = end, markers.get(ch, "code"), i + 1, 1
            if closing == -1:
                raise _cant_parse(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(source, i)}"
                )
            start = out.pos
            out.emit(source[body_start:closing])
            extra: dict[str, Any] = {}
            next_i = closing + width
            if kind == "text_link":
                if source.startswith("(", next_i):
                    url_end = source.find(")", next_i)
                    if url_end == -1:
                        raise _cant_parse(
                            "Can't find end of a URL at byte offset "
                            f"{_byte_offset(source, next_i)}"
                        )
                    extra["url"] = source[next_i + 1 : url_end]
                    next_i = url_end + 1
                else:
                    kind = ""
            if kind:
                out.add(start, kind, **extra)
            i = next_i
            continue
        out.emit(ch)
        i += 1
    return out.result()


# ------------------------------------------------------------------------ public


def _strip(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace like Telegram does and keep entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    fixed: list[Entity] = []
    for ent in entities:
        start = max(0, ent["offset"] - lead)
        end = min(total, ent["offset"] + ent["length"] - lead)
        if end > start:
            fixed.append({**ent, "offset": start, "length": end - start})
    return stripped, fixed


def parse_text(
    text: str,
    parse_mode: str | None = None,
    entities: list[Entity] | None = None,
) -> tuple[str, list[Entity]]:
    """Return ``(plain_text, entities)`` for an outgoing text or caption.

    Explicit *entities* win over *parse_mode* (that is the Bot API rule). Raises
    :class:`ApiError` (400) for markup Telegram would reject.
    """
    if entities:
        return _strip(text, list(entities))
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = _parse_html(text)
    elif mode == "markdownv2":
        plain, found = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, found = _parse_markdown(text)
    elif mode:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
    else:
        plain, found = text, []
    return _strip(plain, found)


_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_URL_RE = re.compile(r"\bhttps?://[^\s]+")
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{5,32}")


def detect_entities(text: str) -> list[Entity]:
    """Entities Telegram's server adds to a *user's* plain message.

    Only the ones bots commonly rely on: ``bot_command``, ``url`` and ``mention``.
    """
    found: list[Entity] = []
    for regex, kind in ((_COMMAND_RE, "bot_command"), (_URL_RE, "url"), (_MENTION_RE, "mention")):
        for m in regex.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group(0)),
                }
            )
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))
