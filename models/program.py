"""The loyalty program: one validated document with every setting (DOMAIN.md, "The program").

Loaded from TOML files in `programs/`, stored in the database as numbered versions
(`models.programs_store`). Percentages are decimals with at most two places, money in
program files is written in roubles and held here in kopecks.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.errors import InvalidProgram

MAX_CHECK_RUB_CEILING = Decimal(10_000_000)
MAX_REWARD_POINTS_DEFAULT = 100_000
MAX_REWARD_POINTS_CEILING = 10**12  # what the partner API accepts as a number of points at all

Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
Days = Annotated[int, Field(ge=0, le=3650)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdBasis(StrEnum):
    MONEY = "money"  # money paid (check minus points), net of refunds
    PURCHASES = "purchases"  # number of purchases, net of fully refunded ones


class Business(_Section):
    name: str = Field(min_length=1, max_length=80)
    policy_url: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=500)


class Points(_Section):
    point_value_kopecks: int = Field(default=100, ge=1, le=100_000)
    validity_days: Days = 365  # 0: regular points never expire
    pending_days: Days = 0  # cashback and referral lots wait this long before they can be spent
    expiry_warning_days: Days = 14


class Welcome(_Section):
    points: int = Field(default=0, ge=0, le=1_000_000)
    validity_days: Days | None = None  # None: the regular validity


class Tier(_Section):
    name: str = Field(min_length=1, max_length=40)
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
                raise ValueError(f"tier thresholds must increase ({cur.name!r} after {prev.name!r})")
        if self.basis is ThresholdBasis.PURCHASES:
            for tier in self.levels:
                if tier.threshold != int(tier.threshold):
                    raise ValueError(f"tier {tier.name!r}: a purchases threshold must be whole")
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
    site: str = Field(min_length=1, max_length=40, pattern=r"^[\w .\-]+$")
    url: str = Field(min_length=1, max_length=500)
    points: int = Field(ge=1, le=1_000_000)


class PresetCampaign(_Section):
    """A campaign created when the program is first applied (existing codes are left alone)."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=80)
    partner: str | None = Field(default=None, max_length=80)
    points: int = Field(default=0, ge=0, le=10_000_000)  # 0: a source tag without a certificate
    max_redeem_percent: Percent = Decimal(100)
    validity_days: Days = 30
    issue_limit: int | None = Field(default=None, ge=1)


class Refunds(_Section):
    window_days: Days = 14


class Limits(_Section):
    # At most ten million roubles: 10^9 kopecks, so the exact SQL of refunds' shares (kopecks times
    # kopecks, models/running_totals.py) stays within 64 bits.
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
        names = [r.site.lower() for r in reviews]
        if len(names) != len(set(names)):
            raise ValueError("review sites must be unique")
        return reviews

    def tier(self, index: int) -> Tier:
        return self.tiers.levels[min(max(index, 0), len(self.tiers.levels) - 1)]

    def review(self, site: str) -> Review | None:
        return next((r for r in self.reviews if r.site.lower() == site.lower()), None)

    def to_document(self) -> dict[str, Any]:
        """A JSON-safe dict (decimals as strings) for storage."""
        return self.model_dump(mode="json", exclude_none=True)


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top)"
        lines.append(f"{source}: {where}: {err['msg']}")
    return "\n".join(lines)


def parse_program(text: str, source: str = "program") -> Program:
    """Parse TOML text; errors name the key and say why."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidProgram(f"{source}: not valid TOML: {exc}") from exc
    return program_from_document(data, source)


def program_from_document(data: dict[str, Any], source: str = "program") -> Program:
    try:
        return Program.model_validate(data)
    except ValidationError as exc:
        raise InvalidProgram(_format_errors(exc, source)) from exc


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
    """Flat list of (key, old value, new value) for every setting that differs."""
    def flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
        if isinstance(value, dict):
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
