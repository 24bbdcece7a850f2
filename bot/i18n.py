"""The translation layer: Fluent messages, locale choice, money and date formatting.

Every user-facing string goes through here (STYLE.md, "Habits"). Messages live in
`bot/locales/<locale>/*.ftl`; every `.ftl` file in a locale folder is loaded, so each
feature owns its own file.

Decisions written down once:

* Locales are "ru" (default) and "en". A key missing in "en" falls back to "ru"; a key
  missing everywhere returns the key itself and logs a warning, so a typo never turns
  into a traceback in front of a customer.
* Unicode isolation marks are off: Telegram renders them as stray boxes on some clients,
  and every placeable here is a name or a number, not right-to-left text.
* Digit grouping follows CLDR, exactly what Fluent (through babel) prints for `{ $n }`:
  "12 250" in ru with a NO-BREAK SPACE (U+00A0) and "12,250" in en. U+00A0 rather than
  the narrow U+202F because every font Telegram clients use has it, it keeps a figure on
  one line, and `models.kernel.money.parse_amount` reads it back.
* Money is integer kopecks: "12 250 ₽", "12 250,50 ₽" (ru) and "12,250 ₽",
  "12,250.50 ₽" (en). Kopecks are shown only when there are any. A negative amount
  (a refund, a shortfall in a report) gets a leading hyphen-minus, the sign babel
  prints for negative numbers in both locales. Messages can format kopecks themselves
  with `{ MONEY($kopecks) }`.
* Dates: "12.03.2026" in ru; "12 Mar 2026" in en, because a reader used to
  month-first dates would misread "03.12".
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import ast as ftl

log = logging.getLogger(__name__)

LOCALES: tuple[str, ...] = ("ru", "en")
DEFAULT_LOCALE = "ru"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"

# Telegram language codes whose speakers are far more likely to read Russian than
# English: the business is in Russia and these are the neighbouring audiences that
# grew up with Russian-language interfaces.
_RUSSIAN_READING = frozenset({"ru", "uk", "be", "kk", "ky", "uz", "tg"})

_GROUP_SEPARATOR = {"ru": "\u00a0", "en": ","}
_DECIMAL_SEPARATOR = {"ru": ",", "en": "."}
_CURRENCY = "\u00a0₽"  # no-break space: the sign never wraps onto its own line
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _known(locale: str) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


# ---------------------------------------------------------------------------
# Numbers, money, dates


def format_number(n: int, locale: str) -> str:
    """A whole number with the locale's digit grouping: "12 250" / "12,250"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"format_number takes an int, got {type(n).__name__}")
    grouped = f"{abs(n):,}".replace(",", _GROUP_SEPARATOR[_known(locale)])
    return f"-{grouped}" if n < 0 else grouped


def format_money(kopecks: int, locale: str) -> str:
    """Integer kopecks as roubles: "12 250 ₽", "12 250,50 ₽" (ru), "12,250.50 ₽" (en)."""
    if isinstance(kopecks, bool) or not isinstance(kopecks, int):
        # A float here means someone did money arithmetic in floats; fail loudly.
        raise TypeError(f"format_money takes integer kopecks, got {type(kopecks).__name__}")
    locale = _known(locale)
    roubles, rest = divmod(abs(kopecks), 100)
    text = format_number(roubles, locale)
    if rest:
        text += f"{_DECIMAL_SEPARATOR[locale]}{rest:02d}"
    sign = "-" if kopecks < 0 else ""
    return f"{sign}{text}{_CURRENCY}"


def format_date(d: date | datetime, locale: str) -> str:
    """A calendar date: "12.03.2026" (ru) or "12 Mar 2026" (en).

    A datetime is shown as its own calendar date: convert it to the business's time
    zone first (DOMAIN.md, "Automatic certificates").
    """
    if isinstance(d, datetime):
        d = d.date()
    if _known(locale) == "en":
        return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def format_time(t: time | datetime, locale: str) -> str:
    """A clock time, 24-hour in both locales ("14:05"): the business runs on Moscow time."""
    return f"{t.hour:02d}:{t.minute:02d}"


def resolve_locale(language_code: str | None, stored: str | None) -> str:
    """The locale to speak to a user in.

    A preference the user chose (stored) wins. Otherwise Telegram's language code
    decides: "en", "en-US" → en; Russian and the languages whose speakers mostly read
    Russian (see `_RUSSIAN_READING`) → ru; any other language → en, since a visitor
    from elsewhere is likelier to read English than Russian; no code at all (some
    clients omit it) → ru, the business's own language.
    """
    if stored in LOCALES:
        return stored
    if not language_code:
        return DEFAULT_LOCALE
    primary = language_code.replace("_", "-").split("-", 1)[0].lower()
    if primary == "en":
        return "en"
    if primary in _RUSSIAN_READING:
        return "ru"
    return "en"


# ---------------------------------------------------------------------------
# Fluent


def _money_function(locale: str) -> Callable[..., str]:
    """`MONEY($kopecks)` for .ftl files, bound to the bundle's locale."""

    def money(value: Any) -> str:
        if isinstance(value, str):  # already formatted by the caller
            return value
        return format_money(int(value), locale)

    return money


def _locale_files(directory: Path, locale: str) -> list[Path]:
    return sorted((directory / locale).glob("*.ftl"))


def _build_bundle(directory: Path, locale: str) -> FluentBundle:
    functions: dict[str, Any] = {"MONEY": _money_function(locale)}
    bundle = FluentBundle([locale], functions=functions, use_isolating=False)
    seen: dict[str, Path] = {}
    for path in _locale_files(directory, locale):
        resource = FluentResource(path.read_text(encoding="utf-8"))
        for entry in resource.body:
            if isinstance(entry, ftl.Junk):
                # A syntax error drops only that entry; the key then falls back, and
                # tests/test_i18n.py fails the build, so log rather than refuse to start.
                log.error("i18n: syntax error in %s: %s", path, (entry.content or "").strip()[:200])
            elif isinstance(entry, ftl.Message | ftl.Term):
                key = ("-" if isinstance(entry, ftl.Term) else "") + entry.id.name
                if key in seen:
                    log.error("i18n: %s in %s is already defined in %s; the first wins",
                              key, path.name, seen[key].name)
                else:
                    seen[key] = path
        bundle.add_resource(resource)
    return bundle


class I18n:
    """All locales' messages, loaded once from a directory of `<locale>/*.ftl` files."""

    def __init__(self, directory: Path | str = LOCALES_DIR,
                 locales: Iterable[str] = LOCALES) -> None:
        self.directory = Path(directory)
        self.locales = tuple(locales)
        self._bundles = {loc: _build_bundle(self.directory, loc) for loc in self.locales}

    def get(self, locale: str, key: str, /, **args: Any) -> str:
        """Format message `key` ("id" or "id.attribute") for `locale`; never raises."""
        for candidate in self._fallback_chain(locale):
            text = self._format(candidate, key, args)
            if text is not None:
                return text
        log.warning("i18n: no message %r in any locale", key)
        return key

    def format_with_errors(self, locale: str, key: str,
                           args: Mapping[str, Any]) -> tuple[str, list[Exception]]:
        """Format `key` in exactly `locale` (no fallback) and return Fluent's errors too.

        For tests and tooling that want to prove every message formats cleanly.
        """
        pattern = self._pattern(locale, key)
        if pattern is None:
            raise KeyError(f"{key!r} is not defined in {locale!r}")
        text, errors = self._bundles[locale].format_pattern(pattern, dict(args))
        return str(text), list(errors)

    def has(self, locale: str, key: str) -> bool:
        """Whether `locale` itself (without fallback) defines message `key`."""
        return self._pattern(locale, key) is not None

    def translator(self, locale: str) -> Translator:
        return Translator(self, locale if locale in self._bundles else DEFAULT_LOCALE)

    def _fallback_chain(self, locale: str) -> list[str]:
        chain = [locale] if locale in self._bundles else []
        if DEFAULT_LOCALE not in chain and DEFAULT_LOCALE in self._bundles:
            chain.append(DEFAULT_LOCALE)
        return chain

    def _pattern(self, locale: str, key: str) -> Any | None:
        bundle = self._bundles.get(locale)
        message_id, _, attribute = key.partition(".")
        if bundle is None or not bundle.has_message(message_id):
            return None
        message = bundle.get_message(message_id)
        if attribute:
            return message.attributes.get(attribute)
        return message.value

    def _format(self, locale: str, key: str, args: Mapping[str, Any]) -> str | None:
        pattern = self._pattern(locale, key)
        if pattern is None:
            return None
        try:
            text, errors = self._bundles[locale].format_pattern(pattern, dict(args))
        except Exception:  # a broken message must not break the conversation
            log.exception("i18n: formatting %r in %s failed", key, locale)
            return key
        if errors:
            # Fluent still returns its best effort ("{$n}" for a missing variable).
            log.warning("i18n: %r in %s: %s", key, locale, "; ".join(map(str, errors)))
        return str(text)


@dataclass(frozen=True)
class Translator:
    """`t("card-balance", points=5)` in one locale: what handlers receive."""

    i18n: I18n
    locale: str

    def __call__(self, key: str, /, **args: Any) -> str:
        return self.i18n.get(self.locale, key, **args)

    def money(self, kopecks: int) -> str:
        return format_money(kopecks, self.locale)

    def number(self, n: int) -> str:
        return format_number(n, self.locale)

    def day(self, d: date | datetime) -> str:
        return format_date(d, self.locale)


@functools.cache
def default_i18n() -> I18n:
    """The process-wide I18n over the package's own locales, loaded on first use."""
    return I18n()
