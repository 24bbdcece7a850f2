"""Promo codes, the domain rules (issue 18, "Promo codes"; docs/RULES.md, "Promo codes"):
normalisation, the validity window in business time, once per person across erasure, the
total limit under a race, the certificate in the ledger. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from models.campaigns.promo import (
    PromoSpec,
    create_promo,
    disable_promo,
    lookup_key,
    normalize_code,
    promo_uses,
    redeem_promo,
)
from models.customers.accounts import erase_customer
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.errors import PromoUnavailable
from models.kernel.tables import AuditEntry, CertificateKind, Lot, LotKind, PromoCode, PromoCodeUse
from tests.helpers import assert_invariants, certificates_total, register

OWNER = 900_001


def _reason(exc: pytest.ExceptionInfo[PromoUnavailable]) -> str:
    return exc.value.detail


def test_normalisation() -> None:
    assert normalize_code(" лето 24 ") == "ЛЕТО24"
    assert normalize_code("Лёто-24") == "ЛЕТО24"
    assert normalize_code("summer_24") == "SUMMER24"
    assert lookup_key("САFЕ") == lookup_key("CAFE")  # Cyrillic С, А, Е typed on a Russian layout
    for bad in ("", "  ", "ab", "A" * 21, "ЛЕТО!", "١٢٣٤", "CODE😀"):
        with pytest.raises(PromoUnavailable):
            normalize_code(bad)


@given(st.text(alphabet="abcxyzабвгдеёжя0123456789 -", min_size=0, max_size=30))
def test_normalising_is_idempotent_and_case_blind(raw: str) -> None:
    try:
        code = normalize_code(raw)
    except PromoUnavailable:
        return
    assert normalize_code(code) == code
    assert normalize_code(raw.upper()) == code == normalize_code(raw.swapcase())
    assert lookup_key(raw) == lookup_key(code)


async def _promo(dom: Domain, code: str = "ЛЕТО24", points: int = 200, limit: int | None = None,
                 first: date = date(2026, 3, 1), last: date = date(2026, 3, 31)) -> PromoCode:
    return await create_promo(dom, OWNER, PromoSpec(code=code, points=points, first_day=first, last_day=last,
                                                    uses_limit=limit))


async def test_redeem_gives_a_certificate_in_the_ledger_with_claim_use_and_audit(dom: Domain) -> None:
    promo = await _promo(dom)
    anna = await register(dom)
    got = await redeem_promo(dom, anna, "лето24", telegram_id=5)
    assert got.points == 200 and got.code == "ЛЕТО24"
    assert await certificates_total(dom, anna) == 200
    async with dom.db.reading() as s:
        lot = (await s.execute(select(Lot).where(Lot.customer_id == anna, Lot.kind == LotKind.CERTIFICATE))
               ).scalar_one()
        assert lot.certificate_kind is CertificateKind.PROMO and lot.expires_at == dom.clock.now() + timedelta(days=30)
        use = (await s.execute(select(PromoCodeUse))).scalar_one()
        assert use.operation_id == lot.operation_id and use.points == 200
        row = await s.get(PromoCode, promo.id)
        assert row is not None and row.uses_count == 1 and row.points_given == 200
        actions = list((await s.execute(select(AuditEntry.action))).scalars())
        assert "customer.promo_redeem" in actions and "owner.promo_create" in actions
        uses = await promo_uses(s, dom.clock.now() - timedelta(days=1), dom.clock.now() + timedelta(days=1))
    assert [(u.code, u.uses, u.points) for u in uses] == [("ЛЕТО24", 1, 200)]
    with pytest.raises(PromoUnavailable) as again:
        await redeem_promo(dom, anna, "ЛЕТО 24")
    assert _reason(again) == "already"
    await assert_invariants(dom)


async def test_window_is_in_business_time(dom: Domain, clock: ManualClock) -> None:
    # Moscow is UTC+3: 1 March begins at 28 Feb 21:00 UTC; 31 March ends at 31 March 21:00 UTC.
    await _promo(dom, first=date(2026, 4, 1), last=date(2026, 4, 30))
    anna = await register(dom)
    clock.set(datetime(2026, 3, 31, 20, 59, tzinfo=UTC))
    with pytest.raises(PromoUnavailable) as early:
        await redeem_promo(dom, anna, "ЛЕТО24")
    assert _reason(early) == "not_yet"
    clock.set(datetime(2026, 3, 31, 21, 0, tzinfo=UTC))  # 1 April 00:00 in Moscow
    await redeem_promo(dom, anna, "ЛЕТО24")
    boris = await register(dom)
    clock.set(datetime(2026, 4, 30, 21, 0, tzinfo=UTC))  # 1 May 00:00 in Moscow: over
    with pytest.raises(PromoUnavailable) as late:
        await redeem_promo(dom, boris, "ЛЕТО24")
    assert _reason(late) == "expired"


async def test_unknown_disabled_used_up_and_once_per_person_across_erasure(dom: Domain) -> None:
    promo = await _promo(dom, limit=2)
    anna = await register(dom, phone="+79161110001")
    with pytest.raises(PromoUnavailable) as unknown:
        await redeem_promo(dom, anna, "ЗИМА24")
    assert _reason(unknown) == "unknown"
    await redeem_promo(dom, anna, "ЛЕТО24")
    await erase_customer(dom, anna)
    again = await register(dom, phone="+79161110001")  # the same person, a new record
    with pytest.raises(PromoUnavailable) as already:
        await redeem_promo(dom, again, "ЛЕТО24")
    assert _reason(already) == "already"
    await redeem_promo(dom, await register(dom), "ЛЕТО24")
    with pytest.raises(PromoUnavailable) as used_up:
        await redeem_promo(dom, await register(dom), "ЛЕТО24")
    assert _reason(used_up) == "used_up"
    other = await _promo(dom, code="ОСЕНЬ")
    await disable_promo(dom, OWNER, other.id)
    with pytest.raises(PromoUnavailable) as disabled:
        await redeem_promo(dom, again, "осень")
    assert _reason(disabled) == "disabled"
    with pytest.raises(PromoUnavailable) as taken:
        await _promo(dom, code="лето-24")
    assert _reason(taken) == "taken"
    async with dom.db.reading() as s:
        assert (await s.get(PromoCode, promo.id)).uses_count == 2  # type: ignore[union-attr]
    await assert_invariants(dom)


async def test_two_customers_racing_for_the_last_use_one_wins(dom: Domain) -> None:
    await _promo(dom, limit=1)
    people = [await register(dom) for _ in range(4)]
    results = await asyncio.gather(*(redeem_promo(dom, c, "ЛЕТО24") for c in people), return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, PromoUnavailable)]
    assert len(won) == 1 and len(lost) == 3 and {e.detail for e in lost} == {"used_up"}
    async with dom.db.reading() as s:
        assert (await s.execute(select(func.count(PromoCodeUse.id)))).scalar_one() == 1
        assert (await s.execute(select(func.count(Lot.id)).where(Lot.kind == LotKind.CERTIFICATE))).scalar_one() == 1
    await assert_invariants(dom)


async def test_one_person_tapping_twice_gets_it_once(dom: Domain) -> None:
    await _promo(dom)
    anna = await register(dom)
    results = await asyncio.gather(*(redeem_promo(dom, anna, "ЛЕТО24") for _ in range(3)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert {r.detail for r in results if isinstance(r, PromoUnavailable)} == {"already"}
    assert await certificates_total(dom, anna) == 200


async def test_bad_specs_are_refused(dom: Domain) -> None:
    for spec, reason in (
        (PromoSpec("ЛЕТО24", 0, date(2026, 3, 1), date(2026, 3, 2)), "points"),
        (PromoSpec("ЛЕТО24", 10, date(2026, 3, 5), date(2026, 3, 2)), "dates"),
        (PromoSpec("ЛЕТО24", 10, date(2026, 1, 1), date(2026, 1, 2)), "dates"),  # ended already
        (PromoSpec("ЛЕТО24", 10, date(2026, 3, 1), date(2026, 3, 2), uses_limit=0), "limit"),
        (PromoSpec("!!", 10, date(2026, 3, 1), date(2026, 3, 2)), "format"),
    ):
        with pytest.raises(PromoUnavailable) as exc:
            await create_promo(dom, OWNER, spec)
        assert _reason(exc) == reason
