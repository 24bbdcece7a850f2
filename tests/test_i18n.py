"""The translation layer: locale parity across every .ftl file, plurals, fallbacks,
money and date formatting (bot/i18n.py)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast, visitor

from bot.i18n import (
    DEFAULT_LOCALE,
    LOCALES,
    LOCALES_DIR,
    I18n,
    format_date,
    format_money,
    format_number,
    format_time,
    resolve_locale,
)

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


# ---------------------------------------------------------------------------
# Parity of the .ftl files (polices every file in the locale folders, not only ours)


class _References(visitor.Visitor):
    """Variables and message references used by one message (values and attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.messages: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.variables.add(node.id.name)

    def visit_MessageReference(self, node: ast.MessageReference) -> None:
        self.messages.add(node.id.name)

    def visit_TermReference(self, node: ast.TermReference) -> None:
        # A term's own variables are filled by the call's arguments, not by the caller,
        # but the arguments themselves may use the message's variables.
        if node.arguments is not None:
            self.visit(node.arguments)


def _parse_locale(locale: str) -> tuple[dict[str, ast.Message], list[str]]:
    """All messages of one locale folder, and a list of problems (junk, duplicates)."""
    messages: dict[str, ast.Message] = {}
    problems: list[str] = []
    parser = FluentParser()
    files = sorted((LOCALES_DIR / locale).glob("*.ftl"))
    assert files, f"no .ftl files for {locale}"
    for path in files:
        resource = parser.parse(path.read_text(encoding="utf-8"))
        for entry in resource.body:
            if isinstance(entry, ast.Junk):
                notes = "; ".join(a.message or a.code for a in entry.annotations)
                problems.append(f"{path.relative_to(LOCALES_DIR)}: syntax error: {notes}")
            elif isinstance(entry, ast.Message):
                if entry.id.name in messages:
                    problems.append(f"{path.relative_to(LOCALES_DIR)}: duplicate {entry.id.name}")
                messages.setdefault(entry.id.name, entry)
    return messages, problems


def _variables(messages: dict[str, ast.Message], name: str, seen: frozenset[str] = frozenset(),
               ) -> set[str]:
    """Variables a caller must pass to format `name`, following message references."""
    refs = _References()
    refs.visit(messages[name])
    found = set(refs.variables)
    for other in refs.messages - seen - {name}:
        if other in messages:
            found |= _variables(messages, other, seen | {name})
    return found


PARSED = {locale: _parse_locale(locale) for locale in LOCALES}


@pytest.mark.parametrize("locale", LOCALES)
def test_ftl_files_parse_without_junk_or_duplicates(locale: str) -> None:
    assert PARSED[locale][1] == []


def test_locales_have_the_same_files() -> None:
    names = {loc: sorted(p.name for p in (LOCALES_DIR / loc).glob("*.ftl")) for loc in LOCALES}
    assert names["en"] == names["ru"]


def test_locales_define_the_same_message_ids() -> None:
    ru, en = set(PARSED["ru"][0]), set(PARSED["en"][0])
    assert sorted(ru - en) == [], "missing in en"
    assert sorted(en - ru) == [], "missing in ru"


def test_messages_take_the_same_variables_and_attributes_in_every_locale() -> None:
    ru, en = PARSED["ru"][0], PARSED["en"][0]
    mismatched = {}
    for name in sorted(set(ru) & set(en)):
        ru_shape = (_variables(ru, name), {a.id.name for a in ru[name].attributes})
        en_shape = (_variables(en, name), {a.id.name for a in en[name].attributes})
        if ru_shape != en_shape:
            mismatched[name] = {"ru": ru_shape, "en": en_shape}
    assert mismatched == {}


# Each message is tried with every variable set to one of these; it passes when one
# kind formats without errors (a number for plurals and MONEY, a date for DATETIME...).
DUMMIES: tuple[object, ...] = (12345, "Иван", datetime(2026, 3, 12, 14, 5))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_formats_without_errors(i18n: I18n, locale: str) -> None:
    messages = PARSED[locale][0]
    failures = {}
    for name, message in messages.items():
        variables = _variables(messages, name)
        keys = ([name] if message.value is not None else []) + [
            f"{name}.{a.id.name}" for a in message.attributes]
        for key in keys:
            attempts = []
            for dummy in DUMMIES:
                text, errors = i18n.format_with_errors(locale, key, dict.fromkeys(variables, dummy))
                attempts.append(errors)
                if not errors and text.strip():
                    break
            else:
                failures[key] = [str(e) for e in attempts[0]] or ["empty text"]
    assert failures == {}


def test_no_isolation_marks(i18n: I18n) -> None:
    text = i18n.get("ru", "card-progress-money", kopecks=1_200_000, tier="Gold")
    assert text == f"Ещё 12{NBSP}000{NBSP}₽ до «Gold»"
    assert "\u2068" not in text and "\u2069" not in text


# ---------------------------------------------------------------------------
# Plurals and numbers


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 баллов"), (1, "1 балл"), (2, "2 балла"), (4, "4 балла"), (5, "5 баллов"),
    (11, "11 баллов"), (12, "12 баллов"), (14, "14 баллов"), (21, "21 балл"),
    (22, "22 балла"), (25, "25 баллов"), (101, "101 балл"), (111, "111 баллов"),
    (12250, f"12{NBSP}250 баллов"), (1001, f"1{NBSP}001 балл"),
])
def test_russian_point_plurals(i18n: I18n, n: int, expected: str) -> None:
    assert i18n.get("ru", "points", n=n) == expected


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 points"), (1, "1 point"), (2, "2 points"), (5, "5 points"), (21, "21 points"),
    (12250, "12,250 points"),
])
def test_english_point_plurals(i18n: I18n, n: int, expected: str) -> None:
    assert i18n.get("en", "points", n=n) == expected


def test_card_points_word_follows_the_number(i18n: I18n) -> None:
    assert [i18n.get("ru", "card-points-word", n=n) for n in (1, 3, 7, 21)] == [
        "балл", "балла", "баллов", "балл"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("n", [0, 7, 999, 1000, 12250, 1_234_567, -5000])
def test_format_number_matches_what_fluent_prints(i18n: I18n, locale: str, n: int) -> None:
    # One grouping rule for the whole bot, whether a number goes through Fluent or not.
    words = i18n.get(locale, "points", n=n)
    assert words.split(" ")[0] == format_number(n, locale)


# ---------------------------------------------------------------------------
# Fallbacks


def test_translator_is_bound_to_its_locale(i18n: I18n) -> None:
    t = i18n.translator("en")
    assert t.locale == "en"
    assert t("points", n=5) == "5 points"
    assert t.money(150) == f"1.50{NBSP}₽"


def test_unknown_locale_falls_back_to_russian(i18n: I18n) -> None:
    assert i18n.get("de", "button-yes") == "Да"
    assert i18n.translator("de").locale == DEFAULT_LOCALE


def test_key_missing_in_english_falls_back_to_russian(tmp_path: Path) -> None:
    (tmp_path / "ru").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "ru" / "a.ftl").write_text("hello = Привет, { $name }\nonly-ru = Только рус\n",
                                           encoding="utf-8")
    (tmp_path / "en" / "a.ftl").write_text("hello = Hello, { $name }\n", encoding="utf-8")
    i18n = I18n(tmp_path)
    assert i18n.get("en", "hello", name="Ann") == "Hello, Ann"
    assert i18n.get("en", "only-ru") == "Только рус"
    assert not i18n.has("en", "only-ru")


def test_missing_key_returns_the_key_and_warns(i18n: I18n,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.i18n"):
        assert i18n.get("en", "no-such-message") == "no-such-message"
    assert "no-such-message" in caplog.text


def test_missing_variable_does_not_raise(i18n: I18n,
                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.i18n"):
        text = i18n.get("ru", "card-progress-money", tier="Gold")
    assert "Gold" in text
    assert "card-progress-money" in caplog.text


def test_attribute_keys_and_syntax_errors(tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    for loc in LOCALES:
        (tmp_path / loc).mkdir()
        (tmp_path / loc / "a.ftl").write_text(
            "menu = Меню\n    .title = Заголовок\nbroken = { $\nok = Ок\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        i18n = I18n(tmp_path)
    assert "syntax error" in caplog.text
    assert i18n.get("en", "menu.title") == "Заголовок"
    assert i18n.get("en", "ok") == "Ок"
    assert i18n.get("en", "broken") == "broken"


# ---------------------------------------------------------------------------
# Locale choice


@pytest.mark.parametrize(("code", "stored", "expected"), [
    (None, None, "ru"), ("", None, "ru"), ("ru", None, "ru"), ("en", None, "en"),
    ("en-US", None, "en"), ("EN_gb", None, "en"), ("uk", None, "ru"), ("be", None, "ru"),
    ("kk", None, "ru"), ("de", None, "en"), ("zh-hans", None, "en"),
    ("ru", "en", "en"), ("en", "ru", "ru"), ("en", "fr", "en"), (None, "en", "en"),
])
def test_resolve_locale(code: str | None, stored: str | None, expected: str) -> None:
    assert resolve_locale(code, stored) == expected


# ---------------------------------------------------------------------------
# Money and dates


@pytest.mark.parametrize(("kopecks", "ru", "en"), [
    (0, "0 ₽", "0 ₽"),
    (1, "0,01 ₽", "0.01 ₽"),
    (50, "0,50 ₽", "0.50 ₽"),
    (100, "1 ₽", "1 ₽"),
    (99_999, "999,99 ₽", "999.99 ₽"),
    (100_000, "1 000 ₽", "1,000 ₽"),
    (1_225_000, "12 250 ₽", "12,250 ₽"),
    (1_225_050, "12 250,50 ₽", "12,250.50 ₽"),
    (123_456_789_01, "123 456 789,01 ₽", "123,456,789.01 ₽"),
    (-1_225_000, "-12 250 ₽", "-12,250 ₽"),
    (-1, "-0,01 ₽", "-0.01 ₽"),
])
def test_format_money(kopecks: int, ru: str, en: str) -> None:
    # Written with plain spaces above for readability; the real separator is U+00A0.
    assert format_money(kopecks, "ru") == ru.replace(" ", NBSP)
    assert format_money(kopecks, "en") == en.replace(" ", NBSP)


def test_format_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_money(12.5, "ru")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_money(True, "ru")


def test_formatted_money_parses_back() -> None:
    from models.kernel.money import parse_amount

    for kopecks in (1, 100, 1_225_000, 1_225_050):
        assert parse_amount(format_money(kopecks, "ru")) == kopecks


def test_format_date_and_time() -> None:
    assert format_date(date(2026, 3, 12), "ru") == "12.03.2026"
    assert format_date(date(2026, 3, 2), "en") == "2 Mar 2026"
    assert format_date(datetime(2026, 12, 31, 23, 59), "ru") == "31.12.2026"
    assert format_date(date(2026, 3, 12), "xx") == "12.03.2026"
    assert format_time(datetime(2026, 3, 12, 9, 5), "en") == "09:05"
