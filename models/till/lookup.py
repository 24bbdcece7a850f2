"""Finding the customer at the till: by the 6-digit code or QR, by phone, or a new customer
created by phone (DOMAIN.md, "The customer code").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import create_phone_customer, customer_by_phone, get_customer, peek_code
from models.kernel.context import Domain
from models.kernel.errors import CustomerBlocked
from models.kernel.outbox import customer_chat
from models.kernel.tables import Customer
from models.ledger import entries as ledger
from models.program.rules import LocalText
from models.program.store import current_program
from models.till.access import StaffActor, audit_in, check_not_own_account, require_staff


@dataclass(frozen=True)
class CustomerCard:
    """What staff see about a customer before the amount is typed."""

    customer_id: int
    name: str
    phone: str | None
    tier_name: LocalText  # the staff member reads it in their language (models.program.rules.text_in)
    balance: int
    certificates: int
    has_telegram: bool


async def customer_card(session: AsyncSession, dom: Domain, customer: Customer) -> CustomerCard:
    _, program = await current_program(session)
    bal = await ledger.balance(session, customer.id, dom.clock.now())
    chat = await customer_chat(session, customer.id)
    return CustomerCard(customer.id, customer.name or "", customer.phone, program.tier(customer.tier_index).name,
                        bal.regular, bal.certificates, chat is not None)


async def find_by_code(dom: Domain, actor: StaffActor, code: str, found_by: str = "code") -> CustomerCard:
    """The customer behind a fresh card code (not used up: the purchase uses it)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await require_staff(session, actor)
        row = await peek_code(session, code.strip(), now)
        customer = await get_customer(session, row.customer_id)
        await check_not_own_account(session, customer.id, actor)
        if customer.blocked:
            raise CustomerBlocked()
        audit_in(session, now, actor, "checkout.find", f"customer:{customer.id}", by=found_by)
        return await customer_card(session, dom, customer)


async def find_by_phone(dom: Domain, actor: StaffActor, phone: str) -> CustomerCard | None:
    """The customer with this phone (any common format), or None."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await require_staff(session, actor)
        customer = await customer_by_phone(session, phone)
        if customer is None or customer.erased_at is not None:
            return None
        await check_not_own_account(session, customer.id, actor)
        if customer.blocked:
            raise CustomerBlocked()
        audit_in(session, now, actor, "checkout.find", f"customer:{customer.id}", by="phone")
        return await customer_card(session, dom, customer)


async def create_customer_by_phone(dom: Domain, actor: StaffActor, phone: str) -> CustomerCard:
    """A phone-only customer created at the till to accrue to (DOMAIN.md, "Customers")."""
    async with dom.db.reading() as session:
        await require_staff(session, actor)
    customer_id = await create_phone_customer(dom, phone, staff_id=actor.staff_id)
    async with dom.db.transaction() as session:
        customer = await get_customer(session, customer_id)
        await check_not_own_account(session, customer.id, actor)
        audit_in(session, dom.clock.now(), actor, "customer.create_by_phone", f"customer:{customer.id}")
        return await customer_card(session, dom, customer)
