"""Customers: registration and joining, phone-only records, codes, erasure (DOMAIN.md, "Customers").
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns.certificates import grant_campaign_certificate
from models.kernel import audit
from models.kernel.claims import claim_once, claimed_period, phone_person_key
from models.kernel.context import Domain
from models.kernel.dates import parse_date
from models.kernel.db import lock_customer
from models.kernel.errors import (
    AlreadyRegistered,
    CodeExpired,
    CodeLimitReached,
    CodeNotFound,
    CodeUsed,
    CustomerErased,
    CustomerNotFound,
    InvalidDate,
    NoFreeCode,
    PhoneTaken,
)
from models.kernel.outbox import notify_customer
from models.kernel.phone import normalize_phone
from models.kernel.phone_key import erased_key, phone_hash
from models.kernel.tables import (
    BroadcastOptOut,
    Campaign,
    Customer,
    CustomerCode,
    EntryKind,
    Lot,
    LotKind,
    Operation,
    OperationKind,
    SourceKind,
    Staff,
    TelegramAccount,
)
from models.kernel.text import is_digits
from models.ledger import entries as ledger
from models.program.rules import Program
from models.program.store import current_program
from models.program.tiers import TierProgress, tier_progress

_REF_ALPHABET = string.ascii_lowercase + string.digits


def new_referral_code() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))


def validate_birthday(day: date, today: date) -> date:
    """No future dates, no age over 120 (DOMAIN.md, "Customers")."""
    if day > today:
        raise InvalidDate("future")
    if today.year - day.year > 120:
        raise InvalidDate("too_old")
    return day


def parse_birthday(text: str, today: date) -> date:
    """`dd.mm.yyyy` (also `yyyy-mm-dd`, for imports)."""
    return validate_birthday(parse_date(text), today)


@dataclass(frozen=True)
class Attribution:
    """Where a new customer came from: the first touch, recorded once."""

    referral_code: str | None = None
    campaign_code: str | None = None  # g_<code> (certificate) or s_<code> (source tag)
    staff_code: str | None = None  # a staff member's personal enrolment link


@dataclass(frozen=True)
class Registration:
    telegram_id: int
    phone: str
    name: str
    birthday: date | None = None
    language: str | None = None
    attribution: Attribution = Attribution()


@dataclass(frozen=True)
class Registered:
    customer_id: int
    joined_existing: bool
    welcome_points: int
    campaign_points: int
    referrer_id: int | None
    campaign_missed: bool = False  # the link's campaign had ended or run out: no certificate


async def touch_account(
    session: AsyncSession, telegram_id: int, first_name: str, username: str | None,
    language: str | None, now: datetime,
) -> TelegramAccount:
    """The Telegram account row, created on first sight."""
    account = await session.get(TelegramAccount, telegram_id)
    if account is None:
        account = TelegramAccount(
            telegram_id=telegram_id, first_name=first_name[:100], username=username,
            language=language, created_at=now,
        )
        session.add(account)
        await session.flush()
    return account


async def _referrer_for(
    session: AsyncSession, code: str | None, telegram_id: int, phone: str, customer_id: int | None
) -> int | None:
    """The referrer, unless it is the same person or would make a cycle (DOMAIN.md, "Referrals")."""
    if not code:
        return None
    ref = (await session.execute(select(Customer).where(Customer.referral_code == code))).scalar()
    return await _acceptable_referrer(session, ref, telegram_id, phone, customer_id)


async def _acceptable_referrer(
    session: AsyncSession, ref: Customer | None, telegram_id: int, phone: str, customer_id: int | None
) -> int | None:
    if ref is None or ref.erased_at is not None or ref.phone == phone:
        return None
    linked = (
        await session.execute(
            select(TelegramAccount.telegram_id).where(TelegramAccount.customer_id == ref.id)
        )
    ).scalar()
    if linked == telegram_id:
        return None
    if customer_id is not None:  # joining an existing record: the chain must not loop back
        cursor: int | None = ref.id
        for _ in range(1000):
            if cursor is None:
                break
            if cursor == customer_id:
                return None
            cursor = (await session.execute(
                select(Customer.referrer_id).where(Customer.id == cursor)
            )).scalar()
    return ref.id


async def _fixed_referrer(
    session: AsyncSession, code: str | None, telegram_id: int, phone: str, customer_id: int | None,
    now: datetime,
) -> int | None:
    """The referrer is fixed for a phone forever (docs/RULES.md, "Once per person"): the first
    registration of a phone that gets a referrer records it as a ("referrer", person key) claim
    whose period is the referrer's id; a later registration with the same phone, after "delete
    my data", gets that referrer back whatever link it came through, or none if that referrer
    was erased since. Two registrations of one phone cannot record two referrers: the unique
    phone (or the lock of the joined record) lets only one of them commit."""
    key = phone_person_key(phone)
    stored = await claimed_period(session, "referrer", key)
    if stored is not None:
        ref = await session.get(Customer, int(stored))
        return await _acceptable_referrer(session, ref, telegram_id, phone, customer_id)
    referrer_id = await _referrer_for(session, code, telegram_id, phone, customer_id)
    if referrer_id is not None:
        await claim_once(session, "referrer", key, str(referrer_id), now=now)
    return referrer_id


async def register_customer(dom: Domain, reg: Registration) -> Registered:
    """Finish registration: create the customer or join a phone-only/imported record.

    Welcome points are paid once per phone ever; a campaign certificate from the first
    touch is issued at the end (DOMAIN.md, "Customers" and "Certificates and campaigns").
    """
    phone = normalize_phone(reg.phone)
    now = dom.clock.now()
    today = now.astimezone(dom.tz).date()
    if reg.birthday is not None:
        validate_birthday(reg.birthday, today)
    async with dom.db.transaction() as session:
        version, program = await current_program(session)
        account = await session.get(TelegramAccount, reg.telegram_id)
        if account is not None and account.customer_id is not None:
            raise AlreadyRegistered()
        if account is None:
            account = await touch_account(session, reg.telegram_id, reg.name, None, reg.language, now)
        existing = (await session.execute(select(Customer).where(Customer.phone == phone))).scalar()
        joined = existing is not None
        campaign = await _campaign_by_code(session, reg.attribution.campaign_code)
        staff = await _staff_by_code(session, reg.attribution.staff_code)
        if existing is not None:
            other = (await session.execute(
                select(TelegramAccount.telegram_id).where(TelegramAccount.customer_id == existing.id)
            )).scalar()
            if other is not None:
                raise PhoneTaken()
            customer = existing
            await lock_customer(session, customer.id)
            customer.name = reg.name[:100] or customer.name
            if customer.birthday is None and reg.birthday is not None:
                _set_birthday(customer, reg.birthday)
            referrer_before = customer.referrer_id
            if customer.referrer_id is None:
                customer.referrer_id = await _fixed_referrer(
                    session, reg.attribution.referral_code, reg.telegram_id, phone, customer.id, now
                )
        else:
            referrer_before = None
            referrer_id = await _fixed_referrer(
                session, reg.attribution.referral_code, reg.telegram_id, phone, None, now
            )
            source, campaign_id, staff_id = SourceKind.WALK_IN, None, None
            if referrer_id is not None:
                source = SourceKind.REFERRAL
            elif campaign is not None:
                source = SourceKind.SOURCE if campaign.is_source else SourceKind.CAMPAIGN
                campaign_id = campaign.id
            elif staff is not None:
                source, staff_id = SourceKind.STAFF, staff.id
            customer = Customer(
                phone=phone, name=reg.name[:100], referral_code=new_referral_code(),
                referrer_id=referrer_id, source_kind=source, campaign_id=campaign_id,
                enrolled_by_staff_id=staff_id, created_at=now, tier_index=0,
            )
            if reg.birthday is not None:
                _set_birthday(customer, reg.birthday)
            session.add(customer)
            try:
                async with session.begin_nested():
                    await session.flush()
            except IntegrityError as exc:  # the same phone registered concurrently
                raise PhoneTaken() from exc
        customer.registered_at = now
        customer.consent_at = now
        account.customer_id = customer.id
        account.linked_at = now
        if reg.language:
            account.language = reg.language
        await session.flush()

        welcome = 0
        if program.welcome.points and await claim_once(session, "welcome", phone_hash(phone), now=now):
            op = Operation(
                kind=OperationKind.REWARD, customer_id=customer.id, program_version=version,
                created_at=now, points_delta=program.welcome.points, comment="welcome",
            )
            session.add(op)
            await session.flush()
            validity = program.welcome.validity_days
            await ledger.grant(
                session, customer_id=customer.id, kind=LotKind.WELCOME,
                amount=program.welcome.points, operation=op, now=now,
                validity_days=validity if validity is not None else program.points.validity_days,
            )
            welcome = program.welcome.points
        if customer.referrer_id is not None and customer.referrer_id != referrer_before:
            # The friend who invited them hears of it (their reward comes with the first purchase).
            await notify_customer(session, customer.referrer_id, "notify-friend-joined", now,
                                  args={"name": customer.name or "—"})
        campaign_points = 0
        missed = False
        if campaign is not None and not campaign.is_source:
            lot = await grant_campaign_certificate(session, customer.id, campaign, version, now)
            campaign_points = lot.amount if lot is not None else 0
            missed = lot is None
        return Registered(
            customer_id=customer.id, joined_existing=joined, welcome_points=welcome,
            campaign_points=campaign_points, referrer_id=customer.referrer_id, campaign_missed=missed,
        )


def _set_birthday(customer: Customer, day: date) -> None:
    customer.birthday = day
    customer.birth_month = day.month
    customer.birth_day = day.day


async def set_birthday(dom: Domain, customer_id: int, day: date, *, by_staff: bool = False) -> None:
    """A birthday is set once by the customer; later changes only by staff."""
    today = dom.clock.now().astimezone(dom.tz).date()
    validate_birthday(day, today)
    async with dom.db.transaction() as session:
        customer = await get_customer(session, customer_id)
        if customer.birthday is not None and not by_staff:
            raise InvalidDate("already_set")
        _set_birthday(customer, day)


async def set_language(dom: Domain, telegram_id: int, locale: str) -> None:
    """The language a person chose (/language): their Telegram account's, whoever they are."""
    async with dom.db.transaction() as session:
        await session.execute(update(TelegramAccount).where(TelegramAccount.telegram_id == telegram_id)
                              .values(language=locale))


async def set_broadcasts(dom: Domain, customer_id: int, *, on: bool, telegram_id: int | None) -> None:
    """The customer's own choice about promotional broadcasts (/settings), audited: advertising
    needs consent, and the audit log shows when it was given or withdrawn."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await get_customer(session, customer_id)  # erased or unknown: refused
        opted_out = await session.get(BroadcastOptOut, customer_id)
        if (opted_out is None) == on:
            return
        if on:
            await session.delete(opted_out)
        else:
            session.add(BroadcastOptOut(customer_id=customer_id, created_at=now))
        audit.record(session, now, "customer.broadcasts_on" if on else "customer.broadcasts_off",
                     actor_telegram_id=telegram_id, actor_role="customer", target=f"customer:{customer_id}")


async def broadcasts_off(session: AsyncSession, customer_id: int) -> bool:
    return await session.get(BroadcastOptOut, customer_id) is not None


async def _campaign_by_code(session: AsyncSession, code: str | None) -> Campaign | None:
    if not code:
        return None
    return (await session.execute(select(Campaign).where(Campaign.code == code))).scalar()


async def _staff_by_code(session: AsyncSession, code: str | None) -> Staff | None:
    if not code:
        return None
    return (await session.execute(
        select(Staff).where(Staff.referral_code == code, Staff.active.is_(True))
    )).scalar()


async def get_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(str(customer_id))
    if customer.erased_at is not None:
        raise CustomerErased(str(customer_id))
    return customer


async def customer_by_telegram(session: AsyncSession, telegram_id: int) -> Customer | None:
    return (
        await session.execute(
            select(Customer)
            .join(TelegramAccount, TelegramAccount.customer_id == Customer.id)
            .where(TelegramAccount.telegram_id == telegram_id)
        )
    ).scalar()


async def customer_by_phone(session: AsyncSession, phone: str) -> Customer | None:
    return (
        await session.execute(select(Customer).where(Customer.phone == normalize_phone(phone)))
    ).scalar()


async def create_phone_customer(
    dom: Domain, phone: str, *, staff_id: int | None, name: str | None = None
) -> int:
    """A customer without Telegram, created by staff accruing by phone (DOMAIN.md, "Customers")."""
    e164 = normalize_phone(phone)
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        existing = await customer_by_phone(session, e164)
        if existing is not None:
            return existing.id
        customer = Customer(
            phone=e164, name=(name or "")[:100] or None, referral_code=new_referral_code(),
            source_kind=SourceKind.STAFF if staff_id else SourceKind.WALK_IN,
            enrolled_by_staff_id=staff_id, created_at=now, tier_index=0,
        )
        session.add(customer)
        await session.flush()
        return customer.id


# --- The customer code (DOMAIN.md, "The customer code") -----------------------------------

# A customer cannot hoard numbers of the 6-digit space (docs/RULES.md, "The customer code"):
# every code issued stays in the table for a day after it stopped working, so these caps bound
# how many numbers one customer holds at any time (about 2 × CODES_PER_DAY).
CODES_PER_HOUR = 10
CODES_PER_DAY = 30
# How many numbers there are (6 digits). A parameter so the tests can fill a small space.
CODE_SPACE = 1_000_000
CODE_TRIES = 50  # random numbers tried before the space counts as full


async def _check_code_limit(session: AsyncSession, customer_id: int, now: datetime) -> None:
    """Raise CodeLimitReached when the customer got CODES_PER_HOUR codes in the last hour or
    CODES_PER_DAY in the last day; `retry_minutes` is when the oldest of them leaves the window."""
    issued = [when for when in (await session.execute(
        select(CustomerCode.issued_at)
        .where(CustomerCode.customer_id == customer_id, CustomerCode.issued_at > now - timedelta(days=1))
        .order_by(CustomerCode.issued_at.desc()).limit(CODES_PER_DAY)
    )).scalars()]
    last_hour = [when for when in issued if when > now - timedelta(hours=1)]
    if len(last_hour) >= CODES_PER_HOUR:
        free_at = last_hour[CODES_PER_HOUR - 1] + timedelta(hours=1)
    elif len(issued) >= CODES_PER_DAY:
        free_at = issued[CODES_PER_DAY - 1] + timedelta(days=1)
    else:
        return
    seconds = (free_at - now).total_seconds()
    raise CodeLimitReached(max(1, -int(-seconds // 60)))


async def issue_code(dom: Domain, customer_id: int, *, limited: bool = True,
                     code_space: int | None = None) -> CustomerCode:
    """A fresh single-use 6-digit code; earlier unused codes of the customer stop working.

    At most CODES_PER_HOUR / CODES_PER_DAY new codes per customer (`CodeLimitReached`;
    `limited=False` only for simulated customers and test set-ups); `NoFreeCode` when no
    number is free (never a loop or a crash).
    """
    now = dom.clock.now()
    space = CODE_SPACE if code_space is None else code_space
    async with dom.db.transaction() as session:
        _, program = await current_program(session)
        customer = await get_customer(session, customer_id)
        if limited:
            await _check_code_limit(session, customer.id, now)
        await session.execute(
            update(CustomerCode)
            .where(CustomerCode.customer_id == customer.id, CustomerCode.used_at.is_(None),
                   CustomerCode.expires_at > now)
            .values(expires_at=now)
        )
        for _ in range(CODE_TRIES):
            code = f"{secrets.randbelow(space):06d}"
            row = await session.get(CustomerCode, code)
            if row is not None:
                # A stale row (used or expired over a day ago) can give its number away.
                if row.expires_at > now - timedelta(days=1) or (
                    row.used_at is not None and row.used_at > now - timedelta(days=1)
                ):
                    continue
                await session.delete(row)
                await session.flush()
            issued = CustomerCode(
                code=code, customer_id=customer.id, issued_at=now,
                expires_at=now + timedelta(minutes=program.limits.code_validity_minutes),
            )
            session.add(issued)
            await session.flush()
            return issued
        raise NoFreeCode(f"no free code after {CODE_TRIES} tries")


async def peek_code(session: AsyncSession, code: str, now: datetime) -> CustomerCode:
    """The code's row if it can still be used; raises a specific error otherwise."""
    if not (len(code) == 6 and is_digits(code)):
        raise CodeNotFound(code)
    row = await session.get(CustomerCode, code)
    if row is None:
        raise CodeNotFound(code)
    if row.used_at is not None:
        raise CodeUsed(code)
    if row.expires_at <= now:
        raise CodeExpired(code)
    return row


async def resolve_code(dom: Domain, code: str) -> int:
    """The customer a code belongs to, without using it up (staff scanned the card)."""
    async with dom.db.reading() as session:
        row = await peek_code(session, code.strip(), dom.clock.now())
        customer = await get_customer(session, row.customer_id)
        return customer.id


async def purge_codes(session: AsyncSession, now: datetime) -> int:
    """Housekeeping: forget codes used or expired more than a day ago."""
    cutoff = now - timedelta(days=1)
    result = await session.execute(
        delete(CustomerCode).where(
            or_(CustomerCode.expires_at < cutoff, CustomerCode.used_at < cutoff)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- Erasure (DOMAIN.md, "Customers") ---------------------------------------------------

def erased_import_key(phone: str) -> str:
    """What an erased imported customer keeps instead of `imp:<phone>`: a fingerprint, so a
    re-import of the old base neither restores the erased data nor trips the unique key
    (keyed, models/kernel/phone_key.py)."""
    return erased_key(phone)


async def erase_customer(dom: Domain, customer_id: int) -> int:
    """Erase personal data; remaining points are written off so the books still balance.

    Returns the number of points written off.
    """
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        version, _ = await current_program(session)
        customer = await get_customer(session, customer_id)
        await lock_customer(session, customer.id)
        op = Operation(
            kind=OperationKind.MANUAL, customer_id=customer.id, program_version=version,
            created_at=now, comment="erased at the customer's request",
        )
        session.add(op)
        await session.flush()
        lots = (await session.execute(
            select(Lot.id, Lot.remaining).where(Lot.customer_id == customer.id, ledger.live(now))
        )).all()
        written_off = 0
        for lot_id, remaining in lots:
            await ledger.debit(session, lot_id, customer.id, remaining, op.id, EntryKind.ERASE, now)
            written_off += remaining
        op.points_delta = -written_off
        customer.name = None
        if customer.imported_key is not None and customer.phone is not None:
            customer.imported_key = erased_import_key(customer.phone)
        customer.phone = None
        customer.birthday = None
        customer.birth_month = None
        customer.birth_day = None
        customer.erased_at = now
        await session.execute(
            update(TelegramAccount).where(TelegramAccount.customer_id == customer.id)
            .values(customer_id=None, first_name="", username=None)
        )
        await session.execute(delete(CustomerCode).where(CustomerCode.customer_id == customer.id))
        return written_off


# --- What the customer's screens show (one read each) ---------------------------------------------

@dataclass(frozen=True)
class CustomerSettings:
    birthday: date | None
    broadcasts_off: bool


async def settings_of(dom: Domain, customer_id: int) -> CustomerSettings:
    """The settings screen: the birthday and the broadcasts choice (CustomerErased/NotFound refused)."""
    async with dom.db.reading() as session:
        customer = await get_customer(session, customer_id)
        return CustomerSettings(customer.birthday, await broadcasts_off(session, customer_id))


async def referral_code_of(dom: Domain, customer_id: int) -> str:
    """The code in the customer's invite link."""
    async with dom.db.reading() as session:
        return (await get_customer(session, customer_id)).referral_code


async def balance_now(dom: Domain, customer_id: int) -> ledger.Balance:
    """The customer's balance as of now (what erasure would take away, what /me shows)."""
    async with dom.db.reading() as session:
        return await ledger.balance(session, customer_id, dom.clock.now())


@dataclass(frozen=True)
class CardState:
    """Everything the card shows besides its code: the program in force, the tier and its
    progress, the balance."""
    program: Program
    customer_name: str
    progress: TierProgress
    balance: ledger.Balance


async def card_state(dom: Domain, customer_id: int) -> CardState:
    now = dom.clock.now()
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        customer = await get_customer(session, customer_id)
        progress = await tier_progress(session, customer, program, now)
        return CardState(program, customer.name or "", progress, await ledger.balance(session, customer_id, now))
