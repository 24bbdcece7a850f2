"""Small builders shared by the domain tests (real operations, no raw inserts)."""

from __future__ import annotations

import itertools
import os
from datetime import date

import pytest
from sqlalchemy import select, update

from bot.app import redis_problem
from models.customers.accounts import Attribution, Registration, issue_code, register_customer
from models.kernel.context import Domain
from models.kernel.tables import Customer
from models.ledger import entries as ledger
from models.ledger.invariants import check_ledger

_ids = itertools.count(1000)


async def register(
    dom: Domain,
    *,
    name: str = "Анна",
    phone: str | None = None,
    referral_code: str | None = None,
    campaign_code: str | None = None,
    birthday: date | None = None,
    telegram_id: int | None = None,
) -> int:
    n = next(_ids)
    reg = Registration(
        telegram_id=telegram_id or n,
        phone=phone or f"+7916{n:07d}",
        name=name,
        birthday=birthday,
        attribution=Attribution(referral_code=referral_code, campaign_code=campaign_code),
    )
    return (await register_customer(dom, reg)).customer_id


async def referral_code_of(dom: Domain, customer_id: int) -> str:
    async with dom.db.reading() as s:
        return (await s.execute(select(Customer.referral_code).where(Customer.id == customer_id))).scalar_one()


async def fresh_code(dom: Domain, customer_id: int) -> str:
    return (await issue_code(dom, customer_id, limited=False)).code


async def balance(dom: Domain, customer_id: int) -> int:
    async with dom.db.reading() as s:
        return (await ledger.balance(s, customer_id, dom.clock.now())).regular


async def certificates_total(dom: Domain, customer_id: int) -> int:
    async with dom.db.reading() as s:
        return (await ledger.balance(s, customer_id, dom.clock.now())).certificates


async def set_tier(dom: Domain, customer_id: int, tier: int) -> None:
    async with dom.db.transaction() as s:
        await s.execute(update(Customer).where(Customer.id == customer_id).values(tier_index=tier))


async def assert_invariants(dom: Domain) -> None:
    problems = await check_ledger(dom.db)
    assert not problems, "\n".join(map(str, problems))


async def redis_url_or_skip() -> str:
    """TEST_REDIS_URL (default redis://127.0.0.1:6379/15); the test is skipped when Redis does not answer."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    problem = await redis_problem(url)
    if problem is not None:
        pytest.skip(f"Redis at {url} is unavailable: {problem}")
    return url
