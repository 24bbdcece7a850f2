"""Promo codes (issue 18, "Promo codes"; docs/RULES.md, "Promo codes").

The owner creates a code ("ЛЕТО24") worth a certificate of N points, valid from one day to
another in the business's time zone, with an optional limit on the total uses. A customer
types it in the bot (or opens its deep link) and gets the certificate: at most once per
*person* (the phone's fingerprint, which survives "delete my data"; models/kernel/claims.py), and the
total limit holds under concurrent redemptions (a conditional UPDATE of the use counter).

The claim, the counter, the operation, the certificate lot with its GRANT entry, the use
record and the audit entry are written in one transaction: all of them or none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns.certificates import issue_certificate
from models.kernel import audit
from models.kernel.claims import claim_once, is_claimed, person_key
from models.kernel.clock import start_of_day
from models.kernel.context import Domain
from models.kernel.errors import PromoUnavailable
from models.kernel.tables import (
    CODE_MAX,
    CODE_MIN,
    DEFAULT_VALIDITY_DAYS,
    CertificateKind,
    Customer,
    PromoCode,
    PromoCodeUse,
)
from models.program.store import current_program

POINTS_MAX = 10_000_000
CLAIM_KIND = "promo"  # reward_claims: ("promo", person, promo code id)

# Why a code gives nothing; each has its own answer in bot/locales/*/promo.ftl.
REASONS = ("format", "unknown", "disabled", "not_yet", "expired", "used_up", "already", "blocked")

_DROPPED = re.compile(r"[\s\-‐-―_]+")  # spaces, hyphens and dashes people type inside codes
_ALLOWED = re.compile(r"^[A-Z0-9А-Я]+$")  # after upper-casing; Ё is folded into Е first
# Cyrillic letters that look like Latin ones: "CAFE" typed on a Russian layout (С, А, Е) is the
# same code. Only the look-up key is folded; the owner's spelling is what the bot shows.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


# --- The code as typed -----------------------------------------------------------------------

def normalize_code(raw: str) -> str:
    """What the customer typed, as the code: spaces and dashes dropped, upper case, Ё as Е.
    PromoUnavailable("format") if what is left is not 3–20 letters (Latin or Cyrillic) and digits."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = _DROPPED.sub("", text).upper().replace("Ё", "Е")
    if not CODE_MIN <= len(text) <= CODE_MAX or not _ALLOWED.match(text):
        raise PromoUnavailable("format")
    return text


def lookup_key(code: str) -> str:
    """The key a code is found by: Cyrillic look-alikes of Latin letters folded to Latin."""
    return normalize_code(code).translate(_LOOKALIKES)


# --- The owner's side ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PromoSpec:
    code: str
    points: int
    first_day: date
    last_day: date
    uses_limit: int | None = None
    validity_days: int = DEFAULT_VALIDITY_DAYS
    max_redeem_percent: Decimal = Decimal(100)


def window(first_day: date, last_day: date, dom: Domain) -> tuple[datetime, datetime]:
    """Both days included, in the business's time zone."""
    return start_of_day(first_day, dom.tz), start_of_day(last_day + timedelta(days=1), dom.tz)


async def create_promo(dom: Domain, owner_telegram_id: int, spec: PromoSpec) -> PromoCode:
    """A new code (PromoUnavailable "format", "taken", "points", "dates", "limit", "validity")."""
    code = normalize_code(spec.code)
    if not 1 <= spec.points <= POINTS_MAX:
        raise PromoUnavailable("points")
    if spec.last_day < spec.first_day:
        raise PromoUnavailable("dates")
    if spec.uses_limit is not None and not 1 <= spec.uses_limit <= POINTS_MAX:
        raise PromoUnavailable("limit")
    if not 1 <= spec.validity_days <= 3650:
        raise PromoUnavailable("validity")
    now = dom.clock.now()
    starts, ends = window(spec.first_day, spec.last_day, dom)
    if ends <= now:
        raise PromoUnavailable("dates")  # a code that ended before it was made is a typo
    async with dom.db.transaction() as session:
        key = code.translate(_LOOKALIKES)
        if (await session.execute(select(PromoCode.id).where(PromoCode.lookup_key == key))).scalar() is not None:
            raise PromoUnavailable("taken")  # never reused, even disabled: its uses are per code
        promo = PromoCode(code=code, lookup_key=key, points=spec.points,
                          max_redeem_percent=str(spec.max_redeem_percent), validity_days=spec.validity_days,
                          starts_at=starts, ends_at=ends, uses_limit=spec.uses_limit, uses_count=0, points_given=0,
                          active=True, created_at=now, created_by=owner_telegram_id)
        session.add(promo)
        await session.flush()
        audit.record(session, now, "owner.promo_create", actor_telegram_id=owner_telegram_id, actor_role="owner",
                     target=f"promo:{promo.id}",
                     details={"code": code, "points": spec.points, "starts": spec.first_day.isoformat(),
                              "ends": spec.last_day.isoformat(), "limit": spec.uses_limit,
                              "validity_days": spec.validity_days})
        return promo


async def disable_promo(dom: Domain, owner_telegram_id: int, promo_id: int) -> PromoCode:
    """Stop a code for good (uses made stay). PromoUnavailable("unknown") if there is none."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        promo = await session.get(PromoCode, promo_id)
        if promo is None:
            raise PromoUnavailable("unknown")
        if promo.active:
            promo.active = False
            promo.disabled_at = now
            audit.record(session, now, "owner.promo_disable", actor_telegram_id=owner_telegram_id,
                         actor_role="owner", target=f"promo:{promo.id}",
                         details={"code": promo.code, "uses": promo.uses_count})
        return promo


async def list_promos(dom: Domain) -> list[PromoCode]:
    async with dom.db.reading() as session:
        return list((await session.execute(
            select(PromoCode).order_by(PromoCode.active.desc(), PromoCode.id.desc()))).scalars())


def status_of(promo: PromoCode, now: datetime) -> str:
    """active, disabled, not_yet, expired or used_up (the owner's list and the customer's answer)."""
    if not promo.active:
        return "disabled"
    if now < promo.starts_at:
        return "not_yet"
    if now >= promo.ends_at:
        return "expired"
    if promo.uses_limit is not None and promo.uses_count >= promo.uses_limit:
        return "used_up"
    return "active"


# --- The customer's side --------------------------------------------------------------------------

@dataclass(frozen=True)
class Redeemed:
    code: str
    points: int
    max_redeem_percent: str
    expires_at: datetime | None
    operation_id: int


async def find_promo(session: AsyncSession, code: str) -> PromoCode | None:
    return (await session.execute(
        select(PromoCode).where(PromoCode.lookup_key == lookup_key(code)))).scalar()


async def redeem_promo(dom: Domain, customer_id: int, raw_code: str | None = None, *, promo_id: int | None = None,
                       telegram_id: int | None = None, channel: str = "bot") -> Redeemed:
    """The customer's certificate for the code (typed, or `promo_id` from the code's deep link),
    or PromoUnavailable with one of REASONS.

    Once per person (`reward_claims` ("promo", person key, code id)); the total limit is a
    conditional UPDATE, so two customers racing for the last use cannot both get it.
    """
    code = normalize_code(raw_code or "") if promo_id is None else ""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        promo = await find_promo(session, code) if promo_id is None else await session.get(PromoCode, promo_id)
        if promo is None:
            raise PromoUnavailable("unknown")
        status = status_of(promo, now)
        if status != "active":
            raise PromoUnavailable(status, code=promo.code)
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.erased_at is not None:
            raise PromoUnavailable("unknown", code=promo.code)
        if customer.blocked:
            raise PromoUnavailable("blocked", code=promo.code)
        person = await person_key(session, customer_id)
        if await is_claimed(session, CLAIM_KIND, person, str(promo.id)):
            raise PromoUnavailable("already", code=promo.code)
        version, _ = await current_program(session)
        if not await claim_once(session, CLAIM_KIND, person, str(promo.id), now=now):
            raise PromoUnavailable("already", code=promo.code)  # the same person, a moment earlier (a double tap)
        taken = await session.execute(
            update(PromoCode)
            .where(PromoCode.id == promo.id, PromoCode.active.is_(True),
                   or_(PromoCode.uses_limit.is_(None), PromoCode.uses_count < PromoCode.uses_limit))
            .values(uses_count=PromoCode.uses_count + 1, points_given=PromoCode.points_given + promo.points)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            # The last use went to someone else (the claim rolls back).
            raise PromoUnavailable("used_up", code=promo.code)
        lot = await issue_certificate(
            session, customer_id=customer_id, kind=CertificateKind.PROMO, points=promo.points,
            max_redeem_percent=Decimal(promo.max_redeem_percent), validity_days=promo.validity_days,
            program_version=version, now=now, comment=f"promo {promo.code}", notify=False,
        )
        assert lot is not None  # points ≥ 1 by construction
        session.add(PromoCodeUse(promo_code_id=promo.id, customer_id=customer_id, operation_id=lot.operation_id,
                                 lot_id=lot.id, points=promo.points, created_at=now))
        audit.record(session, now, "customer.promo_redeem", actor_telegram_id=telegram_id, actor_role="customer",
                     target=f"promo:{promo.id}",
                     details={"code": promo.code, "customer": customer_id, "points": promo.points,
                              "operation": lot.operation_id, "channel": channel})
        return Redeemed(code=promo.code, points=promo.points, max_redeem_percent=promo.max_redeem_percent,
                        expires_at=lot.expires_at, operation_id=lot.operation_id)


# --- Reports ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PromoUses:
    code: str
    uses: int
    points: int


async def promo_uses(session: AsyncSession, start: datetime, end: datetime) -> list[PromoUses]:
    """Uses and points given per code within [start, end) (the report's "Promo codes")."""
    rows = (await session.execute(
        select(PromoCode.code, func.count(PromoCodeUse.id), func.coalesce(func.sum(PromoCodeUse.points), 0))
        .join(PromoCodeUse, PromoCodeUse.promo_code_id == PromoCode.id)
        .where(PromoCodeUse.created_at >= start, PromoCodeUse.created_at < end)
        .group_by(PromoCode.id, PromoCode.code)
        .order_by(func.count(PromoCodeUse.id).desc(), PromoCode.code)
    )).all()
    return [PromoUses(code=str(code), uses=int(uses), points=int(points)) for code, uses, points in rows]


__all__ = ["CLAIM_KIND", "REASONS", "PromoCode", "PromoCodeUse", "PromoSpec", "PromoUses", "Redeemed",
           "create_promo", "disable_promo", "find_promo", "list_promos", "lookup_key", "normalize_code",
           "promo_uses", "redeem_promo", "status_of", "window"]
