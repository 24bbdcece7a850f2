"""The owner's tools, framework-free (issue 6): program edits, campaigns and sources,
customer look-up and care (adjust, pin a tier, block), the audit log.

Every function that changes something writes an audit entry in the same transaction
(DOMAIN.md, "Roles": every staff and owner action is audited).
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import get_customer, peek_code
from models.kernel import audit
from models.kernel.clock import start_of_day
from models.kernel.context import Domain
from models.kernel.errors import (
    CampaignUnavailable,
    CustomerNotFound,
    DomainError,
    InvalidProgram,
    SettingRejected,
)
from models.kernel.outbox import waiting_for_telegram
from models.kernel.phone import looks_like_phone, normalize_phone
from models.kernel.tables import AuditEntry, Campaign, Customer, OperationKind, Staff, TelegramAccount
from models.kernel.text import SOURCE_TAG_RE, foreign_digits, is_digits
from models.ledger import entries as ledger
from models.ledger.history import HistoryPage, history_page
from models.program.rules import LocalText, Program, program_diff, program_from_document
from models.program.store import current_program, set_program
from models.program.tiers import recalculate_tier
from models.purchase.purchases import adjust_points
from models.reports.report import CampaignFunnel, build_report

OWNER_ROLE = "owner"
_CODE_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class OwnerActor:
    telegram_id: int
    staff_id: int | None = None


def _audit(session: AsyncSession, now: datetime, actor: OwnerActor, action: str, target: str | None,
           **details: Any) -> None:
    audit.record(session, now, action, actor_telegram_id=actor.telegram_id, actor_role=OWNER_ROLE,
                 target=target, details=details)


# --- The program ---------------------------------------------------------------------------------

# Settings the owner edits with buttons: key → (section path, field, kind). Tier settings
# take the tier index: "tier_cashback:2".
SETTINGS = ("welcome_points", "tier_cashback", "tier_cap", "birthday_points", "birthday_cap",
            "birthday_validity", "birthday_enabled", "winback_points", "winback_after_days", "winback_enabled")

_CERTIFICATE_DEFAULTS = {"birthday": {"points": 500, "max_redeem_percent": "100", "validity_days": 15},
                         "winback": {"points": 500, "max_redeem_percent": "100", "validity_days": 15,
                                     "after_days": 30}}


# What each setting of the bot's /program is: the answer it expects and where it lives.
SETTING_KINDS = {"welcome_points": "points", "tier_cashback": "percent", "tier_cap": "percent",
                 "birthday_points": "points", "birthday_cap": "percent", "birthday_validity": "days",
                 "birthday_enabled": "switch", "winback_points": "points", "winback_after_days": "days",
                 "winback_enabled": "switch"}
YES = ("да", "вкл", "включить", "yes", "on", "true", "1", "+")
NO = ("нет", "выкл", "выключить", "no", "off", "false", "0", "-")
# Units a person may type after a number ("300 баллов", "15 дней"); nothing else is accepted.
_UNITS = r"(б|б\.|балл|балла|баллов|дн|дн\.|день|дня|дней|pts|points?|days?|d)?"


def edit_setting(program: Program, setting: str, value: str) -> Program:
    """A validated copy of the program with one setting changed; SettingRejected says what
    kind of answer was expected (the bot words it)."""
    name, _, index_text = setting.partition(":")
    if name not in SETTINGS:
        raise InvalidProgram(f"{setting}: unknown setting")
    document = copy.deepcopy(program.model_dump(mode="json"))
    raw = value.strip()
    if name == "welcome_points":
        document["welcome"]["points"] = _whole(raw)
    elif name in ("tier_cashback", "tier_cap"):
        if not is_digits(index_text) or int(index_text) >= len(document["tiers"]["levels"]):
            raise InvalidProgram(f"{setting}: no such tier")
        field = "cashback_percent" if name == "tier_cashback" else "max_redeem_percent"
        document["tiers"]["levels"][int(index_text)][field] = _percent(raw)
    else:
        section, _, what = name.partition("_")
        block = document.get(section) or copy.deepcopy(_CERTIFICATE_DEFAULTS[section])
        key = {"points": "points", "cap": "max_redeem_percent", "validity": "validity_days",
               "after": "after_days", "enabled": "enabled"}[what.split("_")[0]]
        if key == "enabled":
            block[key] = _switch(raw)
        elif key == "max_redeem_percent":
            block[key] = _percent(raw)
        else:
            block[key] = _whole(raw)
        document[section] = block
    try:
        return program_from_document(document, "program")
    except SettingRejected:
        raise
    except InvalidProgram as exc:  # in range for its kind, but the program as a whole refuses it
        raise SettingRejected("program", str(exc)) from None


def _number_text(raw: str) -> str:
    """Digits as typed by a person: spaces inside ("1 000") dropped, a decimal comma read."""
    if foreign_digits(raw):
        raise SettingRejected("digits")
    return re.sub(r"[\s\u00a0\u202f]", "", raw).replace(",", ".")


def _whole(raw: str) -> int:
    text = _number_text(raw).lower()
    match = re.fullmatch(r"([0-9]{1,12})" + _UNITS, text)
    if match is None:
        raise SettingRejected("whole")
    return int(match.group(1))


def _percent(raw: str) -> str:
    """"5", "5%", "5,5 %", "5.5" → "5.5"; 0 to 100 with at most two decimals."""
    text = _number_text(raw).removesuffix("%")
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", text) or Decimal(text) > 100:
        raise SettingRejected("percent")
    return text


def _switch(raw: str) -> bool:
    answer = raw.strip().lower().rstrip(".!")
    if answer in YES:
        return True
    if answer in NO:
        return False
    raise SettingRejected("yes_no")


def diff(old: Program, new: Program) -> list[tuple[str, Any, Any]]:
    return program_diff(old, new)


async def apply_program(dom: Domain, actor: OwnerActor, program: Program, comment: str,
                        expected_version: int | None = None) -> int:
    """Store a new version (nothing recorded before changes); audited.

    `expected_version`: the version the diff was shown against; if someone changed the
    program meanwhile, InvalidProgram("stale") so the owner sees a fresh diff.
    """
    now = dom.clock.now()
    async with dom.db.reading() as session:
        version, _ = await current_program(session)
    if expected_version is not None and version != expected_version:
        raise InvalidProgram("stale: the program changed meanwhile; look at the new difference")
    new_version = await set_program(dom, program, actor.telegram_id, comment)
    async with dom.db.transaction() as session:
        _audit(session, now, actor, "owner.program", f"version:{new_version}", comment=comment[:200],
               previous=version)
    return new_version


# --- Campaigns and sources -------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignSpec:
    name: str
    points: int
    max_redeem_percent: Decimal = Decimal(100)
    validity_days: int = 30
    issue_limit: int | None = None
    ends_on: date | None = None  # the last day it works (business time zone)
    partner: str | None = None


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


async def _unique_code(session: AsyncSession) -> str:
    for _ in range(20):
        code = _new_code()
        if (await session.execute(select(Campaign.id).where(Campaign.code == code))).scalar() is None:
            return code
    raise CampaignUnavailable("no free code")  # 36^8 codes: unreachable in practice


async def create_campaign(dom: Domain, actor: OwnerActor, spec: CampaignSpec) -> Campaign:
    if not spec.name.strip() or len(spec.name) > 80:
        raise CampaignUnavailable("bad name")
    if not 1 <= spec.points <= 10_000_000 or not 1 <= spec.validity_days <= 3650:
        raise CampaignUnavailable("bad value")
    if not Decimal(0) < spec.max_redeem_percent <= Decimal(100):
        raise CampaignUnavailable("bad cap")
    if spec.issue_limit is not None and spec.issue_limit < 1:
        raise CampaignUnavailable("bad limit")
    now = dom.clock.now()
    today = now.astimezone(dom.tz).date()
    if spec.ends_on is not None and spec.ends_on < today:
        raise CampaignUnavailable("ended")
    async with dom.db.transaction() as session:
        campaign = Campaign(
            code=await _unique_code(session), name=spec.name.strip()[:80],
            partner=(spec.partner or "").strip()[:80] or None, is_source=False, points=spec.points,
            max_redeem_percent=str(spec.max_redeem_percent), validity_days=spec.validity_days,
            issue_limit=spec.issue_limit,
            ends_at=start_of_day(spec.ends_on + timedelta(days=1), dom.tz) if spec.ends_on else None,
            created_at=now)
        session.add(campaign)
        await session.flush()
        _audit(session, now, actor, "owner.campaign_create", f"campaign:{campaign.id}", code=campaign.code,
               points=spec.points, limit=spec.issue_limit, ends_on=spec.ends_on.isoformat() if spec.ends_on else None)
        return campaign


async def create_source(dom: Domain, actor: OwnerActor, tag: str, name: str | None = None) -> Campaign:
    """A source tag `s_<tag>`: attribution without a certificate."""
    tag = tag.strip()
    if not SOURCE_TAG_RE.match(tag):
        raise CampaignUnavailable("bad tag")
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        taken = (await session.execute(select(Campaign.id).where(func.lower(Campaign.code) == tag.lower()))).scalar()
        if taken is not None:
            raise CampaignUnavailable("tag taken")
        source = Campaign(code=tag, name=(name or tag)[:80], is_source=True, points=0, created_at=now)
        session.add(source)
        await session.flush()
        _audit(session, now, actor, "owner.source_create", f"campaign:{source.id}", code=tag)
        return source


async def stop_campaign(dom: Domain, actor: OwnerActor, campaign_id: int) -> None:
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise CampaignUnavailable("unknown")
        campaign.active = False
        _audit(session, now, actor, "owner.campaign_stop", f"campaign:{campaign_id}")


async def get_campaign(dom: Domain, campaign_id: int) -> Campaign:
    async with dom.db.reading() as session:
        campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignUnavailable("unknown")
    return campaign


async def list_campaigns(dom: Domain) -> list[Campaign]:
    async with dom.db.reading() as session:
        return list((await session.execute(select(Campaign).order_by(Campaign.id))).scalars())


async def funnels(dom: Domain) -> list[CampaignFunnel]:
    """Every campaign's and source's funnel over all time (models/reports/report.py computes it:
    opened, registered, certificates, buyers, revenue, cost in points)."""
    report = await build_report(dom, None, None, with_rfm=False)
    return list(report.funnels)


# --- Customers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    customer_id: int
    name: str | None
    phone: str | None
    blocked: bool


async def find_customers(dom: Domain, query: str, limit: int = 10) -> list[Found]:
    """By the 6-digit card code, phone, referral code, or part of the name."""
    text = query.strip()
    if not text:
        return []
    now = dom.clock.now()
    async with dom.db.reading() as session:
        ids: list[int] = []
        digits = re.sub(r"[^0-9]", "", text)
        if len(digits) == 6 and len(text.replace(" ", "").replace("-", "")) == 6:
            try:
                ids.append((await peek_code(session, digits, now)).customer_id)
            except DomainError:
                pass
        if looks_like_phone(text):
            ids += list((await session.execute(
                select(Customer.id).where(Customer.phone == normalize_phone(text)))).scalars())
        if not ids:
            # SQLite's lower()/LIKE fold ASCII only, so Cyrillic case variants are spelled out.
            variants = {text.lower(), text.capitalize(), text.title(), text.upper(), text}
            by_name = [Customer.name.like(f"%{variant}%") for variant in variants]
            ids += list((await session.execute(
                select(Customer.id).where(or_(*by_name, Customer.referral_code == text.lower()),
                                          Customer.erased_at.is_(None))
                .order_by(Customer.id).limit(limit))).scalars())
        if not ids:
            return []
        rows = (await session.execute(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))).scalars()
        return [Found(c.id, c.name, c.phone, c.blocked) for c in rows][:limit]


@dataclass(frozen=True)
class CustomerCard:
    customer_id: int
    name: str | None
    phone: str | None
    birthday: date | None
    tier_index: int
    tier_pinned: int | None
    blocked: bool
    erased: bool
    balance: ledger.Balance
    paid_total_kopecks: int
    purchase_count: int
    source_kind: str
    campaign: LocalText | None  # the preset's names per language when the program presets it
    registered_at: datetime | None
    linked: bool
    last_purchase_at: datetime | None
    referrer: tuple[int, str | None] | None
    invitees: list[tuple[int, str | None]]
    invitee_count: int
    history: HistoryPage


async def customer_card(dom: Domain, customer_id: int, page: int = 0) -> CustomerCard:
    now = dom.clock.now()
    async with dom.db.reading() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(str(customer_id))
        balance = await ledger.balance(session, customer_id, now)
        referrer = None
        if customer.referrer_id is not None:
            ref = await session.get(Customer, customer.referrer_id)
            referrer = (customer.referrer_id, ref.name if ref else None)
        invitee_count = int((await session.execute(
            select(func.count()).select_from(Customer).where(Customer.referrer_id == customer_id))).scalar() or 0)
        invitees = [(int(i), n) for i, n in (await session.execute(
            select(Customer.id, Customer.name).where(Customer.referrer_id == customer_id)
            .order_by(Customer.id).limit(10))).all()]
        campaign = await session.get(Campaign, customer.campaign_id) if customer.campaign_id else None
        _, program = await current_program(session)
        linked = (await session.execute(select(TelegramAccount.telegram_id).where(
            TelegramAccount.customer_id == customer_id))).scalar() is not None
    return CustomerCard(
        customer_id=customer.id, name=customer.name, phone=customer.phone, birthday=customer.birthday,
        tier_index=customer.tier_index, tier_pinned=customer.tier_pinned, blocked=customer.blocked,
        erased=customer.erased_at is not None, balance=balance, paid_total_kopecks=customer.paid_total_kopecks,
        purchase_count=customer.purchase_count, source_kind=customer.source_kind.value,
        campaign=program.campaign_name(campaign.code, campaign.name) if campaign else None,
        registered_at=customer.registered_at, linked=linked,
        last_purchase_at=customer.last_purchase_at, referrer=referrer, invitees=invitees,
        invitee_count=invitee_count, history=await history_page(dom, customer_id, page))


async def adjust(dom: Domain, actor: OwnerActor, customer_id: int, delta: int, reason: str) -> int:
    """Points added (a MANUAL lot) or taken away, with the reason shown to the customer; audited."""
    operation_id = await adjust_points(dom, customer_id, delta, reason, staff_id=actor.staff_id,
                                       kind=OperationKind.MANUAL)
    async with dom.db.transaction() as session:
        _audit(session, dom.clock.now(), actor, "owner.adjust", f"customer:{customer_id}", delta=delta,
               reason=reason[:200], operation_id=operation_id)
    return operation_id


async def pin_tier(dom: Domain, actor: OwnerActor, customer_id: int, tier: int | None) -> int:
    """Pin a customer to a tier (None unpins); the tier is recalculated at once. Returns the tier."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        _, program = await current_program(session)
        if tier is not None and not 0 <= tier < len(program.tiers.levels):
            raise InvalidProgram(f"tier {tier + 1} does not exist")
        customer = await get_customer(session, customer_id)
        customer.tier_pinned = tier
        old, new = await recalculate_tier(session, customer, program, now)
        _audit(session, now, actor, "owner.pin_tier" if tier is not None else "owner.unpin_tier",
               f"customer:{customer_id}", tier=tier, old=old, new=new)
        return new


async def set_blocked(dom: Domain, actor: OwnerActor, customer_id: int, blocked: bool) -> None:
    """A blocked customer can neither earn nor pay (DOMAIN.md... issue 6, "Customers")."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        customer = await get_customer(session, customer_id)
        customer.blocked = blocked
        _audit(session, now, actor, "owner.block" if blocked else "owner.unblock", f"customer:{customer_id}")


# --- The audit log --------------------------------------------------------------------------------

AUDIT_PAGE = 10


@dataclass(frozen=True)
class AuditPage:
    page: int
    pages: int
    entries: list[AuditEntry]
    names: dict[int, str] = field(default_factory=dict)  # telegram id -> staff name, else their first name


async def audit_page(dom: Domain, page: int = 0, size: int = AUDIT_PAGE) -> AuditPage:
    async with dom.db.reading() as session:
        total = int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar() or 0)
        pages = max((total + size - 1) // size, 1)
        page = min(max(page, 0), pages - 1)
        entries = list((await session.execute(
            select(AuditEntry).order_by(AuditEntry.id.desc()).offset(page * size).limit(size))).scalars())
        ids = {e.actor_telegram_id for e in entries if e.actor_telegram_id}
        names: dict[int | None, str] = {}
        if ids:
            for query in (select(TelegramAccount.telegram_id, TelegramAccount.first_name)
                          .where(TelegramAccount.telegram_id.in_(ids)),
                          select(Staff.telegram_id, Staff.display_name).where(Staff.telegram_id.in_(ids))):
                names.update({tid: name for tid, name in (await session.execute(query)).all()})
    return AuditPage(page=page, pages=pages, entries=entries,
                     names={tid: name for tid, name in names.items() if tid is not None and name})


async def record_refusal(dom: Domain, telegram_id: int, role: str, what: str) -> None:
    """Someone who is not the owner tried an owner command or button: logged and audited."""
    async with dom.db.transaction() as session:
        audit.record(session, dom.clock.now(), "owner.refused", actor_telegram_id=telegram_id, actor_role=role,
                     target=what[:80])


async def record(dom: Domain, actor: OwnerActor, action: str, target: str | None = None, **details: Any) -> None:
    """An owner action that has no domain write of its own (an export, a broadcast step)."""
    async with dom.db.transaction() as session:
        _audit(session, dom.clock.now(), actor, action, target, **details)


__all__ = [
    "SETTINGS", "AuditPage", "CampaignSpec", "CustomerCard", "Found", "OwnerActor", "adjust", "apply_program",
    "audit_page", "create_campaign", "create_source", "customer_card", "diff", "edit_setting", "find_customers",
    "funnels", "get_campaign", "list_campaigns", "pin_tier", "record", "record_refusal", "set_blocked",
    "stop_campaign",
]


async def messages_waiting(dom: Domain) -> int:
    """Messages waiting for Telegram longer than models.kernel.outbox.STUCK_AFTER (the /owner line)."""
    async with dom.db.reading() as session:
        return await waiting_for_telegram(session, dom.clock.now())
