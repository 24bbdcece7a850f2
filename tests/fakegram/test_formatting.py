"""parse_mode handling: plain text + UTF-16 entities, and Telegram's parse errors."""

from __future__ import annotations

import json

import pytest

from fakegram import ApiError, FakeTelegram
from fakegram.formatting import detect_entities, parse_text


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_text('😀 <b>Hi <i>there</i></b> &lt;3 <a href="https://x.io">x</a>',
                                "HTML")
    assert text == "😀 Hi there <3 x"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 8},
        {"type": "italic", "offset": 6, "length": 5},
        {"type": "text_link", "offset": 15, "length": 1, "url": "https://x.io"},
    ]
    pre, pre_entities = parse_text('<pre><code class="language-py">x = 1</code></pre>', "HTML")
    assert pre == "x = 1" and pre_entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "py"}
    ]


def test_html_decodes_only_the_entities_telegram_supports() -> None:
    # Bot API: all numeric references, but only &lt; &gt; &amp; &quot; by name.
    assert parse_text("&lt;&gt;&amp;&quot; &#65;&#x42;", "HTML")[0] == '<>&" AB'
    assert parse_text("a&nbsp;b &copy; &ampx; &apos; R&D", "HTML")[0] == (
        "a&nbsp;b &copy; &ampx; &apos; R&D"
    )
    link = parse_text('<a href="https://e.x/?a=1&amp;b=2&nbsp;">x</a>', "HTML")[1]
    assert link[0]["url"] == "https://e.x/?a=1&b=2&nbsp;"


@pytest.mark.parametrize(
    ("source", "mode", "error"),
    [
        ("<b>unclosed", "HTML", 'corresponding to start tag "b"'),
        ("<foo>x</foo>", "HTML", 'Unsupported start tag "foo"'),
        ("<b>x</i>", "HTML", "Unmatched end tag"),
        ("1 < 2", "HTML", "Unclosed start tag"),
        ("a < b > c", "HTML", 'Unsupported start tag ""'),
        ("Price: 5.00", "MarkdownV2", "Character '.' is reserved"),
        ("*bold", "MarkdownV2", "Can't find end of Bold entity"),
        ("_italic", "Markdown", "Can't find end of the entity"),
    ],
)
def test_parse_errors(source: str, mode: str, error: str) -> None:
    with pytest.raises(ApiError) as exc:
        parse_text(source, mode)
    assert exc.value.status == 400 and error in exc.value.description
    assert exc.value.description.startswith("Bad Request: can't parse entities: ")


def test_markdown_and_plain() -> None:
    assert parse_text("*a* _b_ __u__ ~s~ ||p|| `c` [l](https://e.x) \\!", "MarkdownV2")[0] == (
        "a b u s p c l !"
    )
    assert parse_text("*a* _b_ `c` [l](https://e.x)", "Markdown") == (
        "a b c l",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "italic", "offset": 2, "length": 1},
            {"type": "code", "offset": 4, "length": 1},
            {"type": "text_link", "offset": 6, "length": 1, "url": "https://e.x"},
        ],
    )
    assert parse_text("  <b>not html</b>  ", None) == ("<b>not html</b>", [])
    assert detect_entities("/start@my_bot hi @someone https://t.me/x") == [
        {"type": "bot_command", "offset": 0, "length": 13},
        {"type": "mention", "offset": 17, "length": 8},
        {"type": "url", "offset": 26, "length": 14},
    ]


@pytest.mark.asyncio
async def test_state_dump_is_json_safe() -> None:
    async with FakeTelegram() as tg:
        alice = tg.user(id=10, phone="+100")
        await alice.send_photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
        dumped = json.loads(json.dumps(tg.to_dict()))
        assert dumped["chats"][0]["messages"][0]["kind"] == "photo"
        assert dumped["users"][0]["phone"] == "+100"
