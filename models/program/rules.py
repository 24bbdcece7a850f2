"""The loyalty program: one validated document with every setting (DOMAIN.md, "The program").

Loaded from TOML files in `programs/`, stored in the database as numbered versions
(`models.program.store`). Percentages are decimals with at most two places, money in
program files is written in roubles and held here in kopecks.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from models.kernel.errors import InvalidProgram

MAX_CHECK_RUB_CEILING = Decimal(10_000_000)
MAX_REWARD_POINTS_DEFAULT = 100_000
MAX_REWARD_POINTS_CEILING = 10**12  # what the partner API accepts as a number of points at all

Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
Days = Annotated[int, Field(ge=0, le=3650)]


# The languages a program text may be given in (the bot's languages, bot/locales); the first is
# the default: what a reader of any other language falls back to, and the one string the
# partner API and the database keep.
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]

# A text a customer (or the owner) reads: one string for every language, or one per language,
# `name = { ru = "Гость", en = "Guest" }`. Kept as written, so a program file round-trips and
# stored versions with plain strings load as they are. Read it only through `text_in`.
LocalText = str | dict[str, str]


def text_in(text: LocalText, locale: str | None) -> str:
    """`text` for a reader of `locale`: their language, else the default (ru), else any given."""
    if isinstance(text, str):
        return text
    return text.get(locale or DEFAULT_LANGUAGE) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")


def default_text(text: LocalText) -> str:
    """The default-language text: what the database and the partner API keep (one string)."""
    return text_in(text, DEFAULT_LANGUAGE)


def _local_text(*, max_length: int, min_length: int = 1, pattern: str | None = None) -> AfterValidator:
    """Checks of a LocalText field: the limits apply to every language's text."""
    compiled = re.compile(pattern) if pattern else None

    def check(value: LocalText) -> LocalText:
        if isinstance(value, dict):
            if not value:
                raise PydanticCustomError(
                    "text_no_language",
                    "no text in any language: write one text, \"…\", or one per language, { ru = \"…\", en = \"…\" }")
            unknown = sorted(set(value) - set(LANGUAGES))
            if unknown:
                raise PydanticCustomError(
                    "text_unknown_language", "unknown language {unknown}: the bot speaks {languages}",
                    {"unknown": ", ".join(unknown), "languages": ", ".join(LANGUAGES)})
        for text in value.values() if isinstance(value, dict) else (value,):
            if len(text) < min_length:
                raise PydanticCustomError("text_too_short", "the text is empty" if min_length == 1
                                          else "at least {min} characters", {"min": min_length})
            if len(text) > max_length:
                raise PydanticCustomError("text_too_long", "at most {max} characters, \"{text}\" is longer",
                                          {"max": max_length, "text": text})
            if compiled is not None and not compiled.fullmatch(text):
                raise PydanticCustomError("text_pattern", "\"{text}\" may have only letters, digits, spaces, . and -",
                                          {"text": text})
        return value

    return AfterValidator(check)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdBasis(StrEnum):
    MONEY = "money"  # money paid (check minus points), net of refunds
    PURCHASES = "purchases"  # number of purchases, net of fully refunded ones


class Business(_Section):
    name: Annotated[LocalText, _local_text(max_length=80)]
    policy_url: str = Field(default="", max_length=500)
    description: Annotated[LocalText, _local_text(min_length=0, max_length=500)] = ""


class Points(_Section):
    point_value_kopecks: int = Field(default=100, ge=1, le=100_000)
    validity_days: Days = 365  # 0: regular points never expire
    pending_days: Days = 0  # cashback and referral lots wait this long before they can be spent
    expiry_warning_days: Days = 14


class Welcome(_Section):
    points: int = Field(default=0, ge=0, le=1_000_000)
    validity_days: Days | None = None  # None: the regular validity


class Tier(_Section):
    name: Annotated[LocalText, _local_text(max_length=40)]
    cashback_percent: Percent
    max_redeem_percent: Percent
    threshold: Decimal = Field(ge=0)  # roubles (basis money) or purchases (basis purchases)


class Tiers(_Section):
    basis: ThresholdBasis = ThresholdBasis.MONEY
    window_days: Days = 0  # 0: all time; otherwise a rolling window recalculated daily
    near_next_percent: Percent = Decimal(90)  # notify when this share of the next threshold is reached
    levels: list[Tier] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.levels[0].threshold != 0:
            raise ValueError("the first tier's threshold must be 0")
        for prev, cur in zip(self.levels, self.levels[1:], strict=False):
            if cur.threshold <= prev.threshold:
                raise ValueError(f"tier thresholds must increase ({default_text(cur.name)!r} after "
                                 f"{default_text(prev.name)!r})")
        if self.basis is ThresholdBasis.PURCHASES:
            for tier in self.levels:
                if tier.threshold != int(tier.threshold):
                    raise ValueError(f"tier {default_text(tier.name)!r}: a purchases threshold must be whole")
        return self

    def threshold_units(self, tier: Tier) -> int:
        """The threshold in kopecks (money basis) or purchases."""
        if self.basis is ThresholdBasis.MONEY:
            return int(tier.threshold * 100)
        return int(tier.threshold)


class Referral(_Section):
    level_percents: list[Percent] = Field(default_factory=list, max_length=10)
    first_purchase_points: int = Field(default=0, ge=0, le=1_000_000)


class Certificate(_Section):
    enabled: bool = True
    points: int = Field(ge=1, le=10_000_000)
    max_redeem_percent: Percent = Decimal(100)
    validity_days: Days = Field(ge=1)


class Birthday(Certificate):
    days_before: Days = 0


class Winback(Certificate):
    after_days: Days = Field(ge=1)


class Review(_Section):
    # The site's name as customers read it; its default-language text (`key`) identifies the
    # site in review claims, so adding an English name later keeps the claims made before.
    site: Annotated[LocalText, _local_text(max_length=40, pattern=r"^[\w .\-]+$")]
    url: str = Field(min_length=1, max_length=500)
    points: int = Field(ge=1, le=1_000_000)

    @property
    def key(self) -> str:
        return default_text(self.site)


class PresetCampaign(_Section):
    """A campaign created when the program is first applied (existing codes are left alone)."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: Annotated[LocalText, _local_text(max_length=80)]  # the database keeps its default-language text
    partner: str | None = Field(default=None, max_length=80)
    points: int = Field(default=0, ge=0, le=10_000_000)  # 0: a source tag without a certificate
    max_redeem_percent: Percent = Decimal(100)
    validity_days: Days = 30
    issue_limit: int | None = Field(default=None, ge=1)


class Refunds(_Section):
    window_days: Days = 14


class Limits(_Section):
    # At most ten million roubles: 10^9 kopecks, so the exact SQL of refunds' shares (kopecks times
    # kopecks, models/ledger/running_totals.py) stays within 64 bits.
    max_check_rub: Decimal = Field(default=Decimal(1_000_000), gt=0, le=MAX_CHECK_RUB_CEILING)
    code_validity_minutes: int = Field(default=45, ge=1, le=24 * 60)
    redeem_by_phone: bool = True  # with the customer's confirmation in the bot
    phone_confirmation_minutes: int = Field(default=5, ge=1, le=60)
    fraud_operations_per_customer_day: int = Field(default=5, ge=1)
    fraud_points_per_staff_day: int = Field(default=20_000, ge=1)
    low_rating: int = Field(default=3, ge=1, le=5)  # ratings at or below alert the staff chat
    # The most points one reward or adjustment may add or take away (the owner's adjustment in
    # the bot, the partner API's /operations/reward): a typo guard, and far below what the
    # 64-bit columns hold however many of them a customer collects.
    max_reward_points: int = Field(default=MAX_REWARD_POINTS_DEFAULT, ge=1, le=MAX_REWARD_POINTS_CEILING)

    @property
    def max_check_kopecks(self) -> int:
        return int(self.max_check_rub * 100)


class Reports(_Section):
    baseline_discount_percent: Percent = Decimal(10)


class Program(BaseModel):
    """Every setting of a loyalty program. Immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business: Business
    points: Points = Points()
    welcome: Welcome = Welcome()
    tiers: Tiers
    referral: Referral = Referral()
    birthday: Birthday | None = None
    winback: Winback | None = None
    reviews: list[Review] = Field(default_factory=list)
    refunds: Refunds = Refunds()
    limits: Limits = Limits()
    reports: Reports = Reports()
    campaigns: list[PresetCampaign] = Field(default_factory=list)

    @field_validator("reviews")
    @classmethod
    def _unique_sites(cls, reviews: list[Review]) -> list[Review]:
        names = [r.key.lower() for r in reviews]
        if len(names) != len(set(names)):
            raise ValueError("review sites must be unique")
        return reviews

    def tier(self, index: int) -> Tier:
        return self.tiers.levels[min(max(index, 0), len(self.tiers.levels) - 1)]

    def review(self, site: str) -> Review | None:
        """The review site whose key (its default-language name) is `site`."""
        return next((r for r in self.reviews if r.key.lower() == site.lower()), None)

    def campaign_name(self, code: str, stored: str) -> LocalText:
        """A campaign's name: the preset's (every language) when this program presets `code`,
        else the one the database keeps (a campaign made in the bot has one name)."""
        preset = next((c for c in self.campaigns if c.code == code), None)
        return preset.name if preset is not None else stored

    def to_document(self) -> dict[str, Any]:
        """A JSON-safe dict (decimals as strings) for storage."""
        return self.model_dump(mode="json", exclude_none=True)


# Says an error of one of these kinds in the reader's words (the bot passes its translator);
# None: the error is shown as pydantic words it.
ErrorWords = Callable[[str, dict[str, Any]], str | None]
LOCAL_TEXT_ERRORS = ("text_no_language", "text_unknown_language", "text_too_short", "text_too_long",
                     "text_pattern")


def _format_errors(exc: ValidationError, source: str, words: ErrorWords | None = None) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top)"
        worded = words(err["type"], dict(err.get("ctx") or {})) if words and err["type"] in LOCAL_TEXT_ERRORS else None
        lines.append(f"{source}: {where}: {worded or err['msg']}")
    return "\n".join(lines)


def parse_program(text: str, source: str = "program", words: ErrorWords | None = None) -> Program:
    """Parse TOML text; errors name the key and say why."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidProgram(f"{source}: not valid TOML: {exc}") from exc
    return program_from_document(data, source, words)


def program_from_document(data: dict[str, Any], source: str = "program", words: ErrorWords | None = None) -> Program:
    try:
        return Program.model_validate(data)
    except ValidationError as exc:
        raise InvalidProgram(_format_errors(exc, source, words)) from exc


def load_program_file(path: str | Path) -> Program:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidProgram(f"{p}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidProgram(f"{p}: not UTF-8 text") from exc
    return parse_program(text, str(p))


def program_diff(old: Program, new: Program) -> list[tuple[str, Any, Any]]:
    """Flat list of (key, old value, new value) for every setting that differs; a text given per
    language is one value (a str or a {language: text} dict)."""
    def flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
        if isinstance(value, dict) and value and set(value) <= set(LANGUAGES):
            out[prefix] = value  # a LocalText: one setting however many languages it has
        elif isinstance(value, dict):
            for key, sub in value.items():
                flatten(f"{prefix}.{key}" if prefix else key, sub, out)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, sub in enumerate(value):
                flatten(f"{prefix}[{i}]", sub, out)
        else:
            out[prefix] = value

    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    flatten("", old.model_dump(mode="json"), a)
    flatten("", new.model_dump(mode="json"), b)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
