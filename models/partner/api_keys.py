"""API keys for cash-register integrations, and cashiers seen through the API.

A key is shown once when it is created; only its SHA-256 digest is stored. The secret is
32 random bytes, so a plain digest (no slow KDF) is enough: nothing can be guessed, and
verifying stays cheap on every request. Every key of one installation shares one company
id (UDS clients authenticate with `companyId:apiKey`); it is generated with the first key.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from models.kernel import audit
from models.kernel.context import Domain
from models.kernel.db import Database
from models.kernel.errors import DomainError, NotFound
from models.kernel.tables import ApiKey, Role, Staff


class ApiKeyNameTaken(DomainError):
    code = "api_key_name_taken"


class InvalidApiKeyName(DomainError):
    code = "invalid_api_key_name"


class InvalidCashier(DomainError):
    code = "invalid_cashier"


@dataclass(frozen=True)
class CreatedKey:
    """What the owner sees once: the company id and the secret."""

    id: int
    name: str
    company_id: int
    secret: str


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    company_id: int
    created_at: datetime
    revoked_at: datetime | None


_NAME_RE = re.compile(r"^[\w.\- ]{1,64}$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(("loyalty-api-key:" + secret).encode()).hexdigest()


def _new_secret() -> str:
    # Same look as UDS keys (base64 text), 32 random bytes.
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _validate_name(name: str) -> str:
    cleaned = name.strip()
    if not _NAME_RE.match(cleaned):
        raise InvalidApiKeyName(name)
    return cleaned


async def company_id(dom: Domain) -> int | None:
    """The installation's company id, or None before the first key."""
    async with dom.db.reading() as session:
        return (await session.execute(select(ApiKey.company_id).order_by(ApiKey.id).limit(1))).scalar()


async def create_api_key(
    dom: Domain, name: str, *, created_by: int | None = None, actor_role: str = "cli"
) -> CreatedKey:
    """A new key; names are unique among keys that are not revoked. Audited (DOMAIN.md, "Roles")."""
    clean = _validate_name(name)
    now = dom.clock.now()
    secret = _new_secret()
    async with dom.db.transaction() as session:
        taken = (await session.execute(
            select(ApiKey.id).where(ApiKey.name == clean, ApiKey.revoked_at.is_(None))
        )).scalar()
        if taken is not None:
            raise ApiKeyNameTaken(clean)
        company = (await session.execute(select(ApiKey.company_id).order_by(ApiKey.id).limit(1))).scalar()
        if company is None:
            # Twelve digits like UDS company ids; the key, not this number, is the secret.
            company = 100_000_000_000 + secrets.randbelow(900_000_000_000)
        row = ApiKey(company_id=company, name=clean, key_hash=hash_secret(secret), created_at=now,
                     created_by=created_by)
        session.add(row)
        await session.flush()
        audit.record(session, now, "api_key.create", actor_telegram_id=created_by, actor_role=actor_role,
                     target=clean, details={"key_id": row.id, "company_id": company})
        return CreatedKey(id=row.id, name=clean, company_id=company, secret=secret)


async def revoke_api_key(
    dom: Domain, name: str, *, revoked_by: int | None = None, actor_role: str = "cli"
) -> KeyInfo:
    """Revoke the active key with this name; it stops working on the next request. Audited."""
    clean = name.strip()
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        row = (await session.execute(
            select(ApiKey).where(ApiKey.name == clean, ApiKey.revoked_at.is_(None))
        )).scalar()
        if row is None:
            raise NotFound(clean)
        row.revoked_at = now
        _verified.clear()
        audit.record(session, now, "api_key.revoke", actor_telegram_id=revoked_by, actor_role=actor_role,
                     target=clean, details={"key_id": row.id})
        return _info(row)


async def list_api_keys(dom: Domain, *, include_revoked: bool = False) -> list[KeyInfo]:
    async with dom.db.reading() as session:
        query = select(ApiKey).order_by(ApiKey.id)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        return [_info(row) for row in (await session.execute(query)).scalars()]


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(id=row.id, name=row.name, company_id=row.company_id, created_at=row.created_at,
                   revoked_at=row.revoked_at)


# Verified keys are remembered briefly so a busy till does not cost a query per request.
# A revocation in this process clears the cache at once; other processes notice within
# VERIFIED_TTL seconds (docs/API.md).
VERIFIED_TTL = 5.0
_verified: dict[tuple[int, str], tuple[KeyInfo, float]] = {}


async def verify_api_key(dom: Domain, company: int | str, secret: str) -> KeyInfo | None:
    """The key if `company:secret` is a live key; None otherwise (the caller answers 401)."""
    try:
        company_number = int(company)
    except (TypeError, ValueError):
        return None
    if not secret or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    cached = _verified.get((company_number, digest))
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    async with dom.db.reading() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.key_hash == digest))).scalar()
    if row is None or row.revoked_at is not None:
        return None
    if not secrets.compare_digest(str(row.company_id), str(company_number)):
        return None
    info = _info(row)
    if len(_verified) > 1000:
        _verified.clear()
    _verified[(company_number, digest)] = (info, time.monotonic() + VERIFIED_TTL)
    return info


# --- Cashiers (UDS `cashier: {externalId, name}`) --------------------------------------------

# Latin letters, digits, `_`, `-` (the operation's description); the integration guide adds that
# it "can be id or phone number of the employee", so a leading `+` is allowed too.
_EXTERNAL_ID_RE = re.compile(r"^\+?[A-Za-z0-9_\-]{1,63}$")


# Cashier rows are looked up on every purchase; they are only ever added or renamed, so each
# process remembers them (per database). The id never changes; on PostgreSQL, where several
# processes share the database, the name may have been changed since by another one, so a
# request that names its cashier writes the name (a no-op UPDATE when the row already has it)
# instead of trusting the remembered one. On SQLite (one bot process) only a new name is written.
_cashiers: weakref.WeakKeyDictionary[Database, dict[str, tuple[int, str]]] = weakref.WeakKeyDictionary()


async def cashier_staff(dom: Domain, external_id: str, name: str | None) -> tuple[int, str]:
    """(staff id, display name) of a till's cashier, created on first sight (DOMAIN.md,
    "Roles": staff actions are attributed). Such rows have no Telegram account, so they
    grant no role in the bot. A new `name` renames the row."""
    if not _EXTERNAL_ID_RE.match(external_id):
        raise InvalidCashier(external_id)
    display = (name or "").strip()[:100] or external_id
    known = _cashiers.setdefault(dom.db, {})
    cached = known.get(external_id)
    if cached is not None:
        if not name or (cached[1] == display and dom.db.is_sqlite):
            return cached  # SQLite: one bot process per database, its memory is the truth
        async with dom.db.transaction() as session:
            await session.execute(update(Staff).where(Staff.id == cached[0], Staff.display_name != display)
                                  .values(display_name=display).execution_options(synchronize_session=False))
        cached = known[external_id] = (cached[0], display)
        return cached
    async with dom.db.reading() as session:
        found = (await session.execute(
            select(Staff.id, Staff.display_name).where(Staff.external_id == external_id))).first()
    if found is not None:
        staff_id, current = int(found[0]), str(found[1])
        if name and current != display:
            async with dom.db.transaction() as session:
                row = await session.get(Staff, staff_id)
                if row is not None:
                    row.display_name = display
            current = display
        known[external_id] = (staff_id, current)
        return staff_id, current
    now = dom.clock.now()
    try:
        async with dom.db.transaction() as session:
            staff = Staff(external_id=external_id, display_name=display, role=Role.STAFF, created_at=now)
            session.add(staff)
            await session.flush()
            created = (staff.id, display)
    except IntegrityError:
        # Two requests of one cashier raced; the other created the row.
        async with dom.db.reading() as session:
            row2 = (await session.execute(
                select(Staff.id, Staff.display_name).where(Staff.external_id == external_id))).one()
        created = (int(row2[0]), str(row2[1]))
    known[external_id] = created
    return created


def idempotency_key(company: int, nonce: str) -> str:
    """Operation.idempotency_key for a UDS `nonce` (at most 100 characters)."""
    if len(nonce) > 64:
        nonce = hashlib.sha256(nonce.encode()).hexdigest()[:64]
    return f"api:{company}:{nonce}"
