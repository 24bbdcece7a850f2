"""Each scheduled job on its own, on SQLite and PostgreSQL (issue 5; DOMAIN.md, "Automatic
certificates", "Points lots and the ledger", "Tiers (statuses)")."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.i18n import I18n
from bot.sender import render_args
from models.automation import jobs as automation
from models.automation.jobs import HOUSEKEEPING, birthday_target, register_housekeeping
from models.customers.accounts import create_phone_customer, erase_customer, issue_code
from models.kernel.context import Domain
from models.kernel.tables import Customer, CustomerCode, JobRun, Lot, LotKind, RewardClaim
from models.program.rules import Program
from models.program.store import set_program
from scheduler.runner import FutureDate
from tests.helpers import assert_invariants, register
from tests.scheduler.support import OWNER, at, buy, certificates, live_days, messages, runner

NBSP = "\u00a0"


def test_birthday_target_serves_29_february_on_the_28th_in_other_years() -> None:
    assert birthday_target(date(2027, 2, 28), 0) == (date(2027, 2, 28), [28, 29])
    assert birthday_target(date(2028, 2, 28), 0) == (date(2028, 2, 28), [28])
    assert birthday_target(date(2028, 2, 29), 0) == (date(2028, 2, 29), [29])
    assert birthday_target(date(2026, 12, 29), 3) == (date(2027, 1, 1), [1])


async def test_birthday_certificate_once_with_a_greeting(dom: Domain, case_a: Program) -> None:
    anna = await register(dom, name="Анна", birthday=date(1990, 3, 5))
    other = await register(dom, birthday=date(1990, 3, 6))
    jobs = runner(dom)
    at(dom, date(2026, 3, 5), 11, 59)  # before 12:00 the birthday job is not due yet
    outcomes = await jobs.catch_up()
    assert [o.job for o in outcomes if o.business_date == date(2026, 3, 5)] == [
        "expire", "housekeeping", "monthly_report", "tiers", "expiry_warnings"]
    assert await certificates(dom, anna) == []
    at(dom, date(2026, 3, 5), 12, 0)
    [outcome] = await jobs.catch_up()
    assert (outcome.job, outcome.result["issued"]) == ("birthday", 1)
    [lot] = await certificates(dom, anna, "birthday")
    assert (lot.amount, lot.remaining, lot.max_redeem_percent) == (1000, 1000, "20")
    assert lot.expires_at == dom.clock.now() + timedelta(days=15)
    assert await certificates(dom, other) == []
    [greeting] = await messages(dom, "scheduler-birthday")
    text = I18n().get("ru", greeting["key"], **greeting["args"])
    assert text.startswith("🎂 Анна, с днём рождения!")
    assert f"1{NBSP}000 баллов" in text and "до 20% чека до 20.03 включительно" in text
    # Run again by hand, twice: nothing more.
    await jobs.run("birthday", date(2026, 3, 5))
    await jobs.run("birthday", date(2026, 3, 5))
    assert len(await certificates(dom, anna)) == 1
    assert len(await messages(dom, "scheduler-birthday")) == 1
    await assert_invariants(dom)


async def test_birthday_days_before_and_the_claim_year(dom: Domain, case_a: Program) -> None:
    await set_program(dom, case_a.model_copy(update={
        "birthday": case_a.birthday.model_copy(update={"days_before": 3})}), None, "3 days before")
    newyear = await register(dom, birthday=date(1985, 1, 1))
    jobs = runner(dom)
    at(dom, date(2026, 12, 29))
    await jobs.run("birthday")
    [lot] = await certificates(dom, newyear)
    async with dom.db.reading() as s:
        periods = (await s.execute(select(RewardClaim.period).where(RewardClaim.kind == "birthday"))).scalars().all()
    assert periods == ["2027"]  # the birthday it celebrates, not the year it was issued
    assert lot.amount == 1000
    # Three days early the greeting says the birthday is coming, not "happy birthday" (issue 16).
    [soon] = await messages(dom, "scheduler-birthday-soon")
    assert soon["args"]["birthday"] == "01.01" and not await messages(dom, "scheduler-birthday")
    from bot.i18n import I18n

    for locale, words in (("ru", "скоро ваш день рождения — 01.01"), ("en", "your birthday is coming on 01.01")):
        text = I18n().get(locale, "scheduler-birthday-soon", **soon["args"])
        assert words in text and "{" not in text, text


async def test_29_february_birthdays(dom: Domain) -> None:
    leap = await register(dom, birthday=date(2000, 2, 29))
    feb28 = await register(dom, birthday=date(2001, 2, 28))
    jobs = runner(dom)
    at(dom, date(2027, 2, 27))
    await jobs.run("birthday")
    assert await certificates(dom, leap) == [] and await certificates(dom, feb28) == []
    at(dom, date(2027, 2, 28))
    await jobs.run("birthday")
    assert len(await certificates(dom, leap)) == 1 and len(await certificates(dom, feb28)) == 1
    at(dom, date(2027, 3, 1))
    await jobs.run("birthday")
    assert len(await certificates(dom, leap)) == 1
    at(dom, date(2028, 2, 28))  # a leap year: the 29th is a day of its own
    await jobs.run("birthday")
    assert len(await certificates(dom, leap)) == 1 and len(await certificates(dom, feb28)) == 2
    at(dom, date(2028, 2, 29))
    await jobs.run("birthday")
    assert len(await certificates(dom, leap)) == 2


async def test_erased_blocked_and_phone_only_customers(dom: Domain) -> None:
    erased = await register(dom, birthday=date(1990, 3, 10))
    blocked = await register(dom, birthday=date(1990, 3, 10))
    phone_only = await create_phone_customer(dom, "+79160000001", staff_id=None)
    async with dom.db.transaction() as s:
        await s.execute(update(Customer).where(Customer.id == blocked).values(blocked=True))
        await s.execute(update(Customer).where(Customer.id == phone_only).values(
            birthday=date(1990, 3, 10), birth_month=3, birth_day=10))
    await erase_customer(dom, erased)
    at(dom, date(2026, 3, 10))
    [outcome] = await runner(dom).run("birthday")
    assert outcome.result == {"due": 1, "issued": 1, "points": 1000, "messages": 0}
    assert len(await certificates(dom, phone_only)) == 1  # usable at the till by phone
    assert await certificates(dom, blocked) == [] and await certificates(dom, erased) == []
    await assert_invariants(dom)


async def test_winback_after_30_days_once_per_period(dom: Domain) -> None:
    guest = await register(dom, name="Олег")
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 15)
    await buy(dom, guest, 1000)
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 3, 31))
    assert await certificates(dom, guest, "winback") == []
    await live_days(dom, jobs, date(2026, 4, 1))  # 30 days after the 2 March purchase
    [lot] = await certificates(dom, guest, "winback")
    assert lot.amount == 500
    [message] = await messages(dom, "scheduler-winback")
    assert "Олег" in I18n().get("ru", message["key"], **message["args"])
    await live_days(dom, jobs, date(2026, 5, 20), step=5)  # still away: no second certificate
    assert len(await certificates(dom, guest, "winback")) == 1
    await buy(dom, guest, 500)  # 20 May: a new period of inactivity starts
    await live_days(dom, jobs, date(2026, 6, 19))
    assert len(await certificates(dom, guest, "winback")) == 2
    await assert_invariants(dom)


async def test_winback_skips_a_customer_who_bought_while_the_job_ran(dom: Domain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The due list is read before the certificates are written: a purchase landing in between
    ends the inactivity, and the customer, re-checked under the lock, gets no win-back."""
    guest, other = await register(dom), await register(dom)
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 15)
    await buy(dom, guest, 1000)
    await buy(dom, other, 1000)
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 3, 31))
    read_due = automation.due_winbacks

    async def due_then_a_purchase(*args, **kwargs):  # type: ignore[no-untyped-def]
        due = await read_due(*args, **kwargs)
        await buy(dom, guest, 300)  # at the till while the job is between its read and its write
        return due

    monkeypatch.setattr(automation, "due_winbacks", due_then_a_purchase)
    at(dom, date(2026, 4, 1), 13)  # win-back runs at 12:30
    [outcome] = [o for o in await jobs.catch_up() if o.job == "winback"]
    assert (outcome.result["due"], outcome.result["issued"]) == (2, 1)
    assert await certificates(dom, guest, "winback") == []
    assert len(await certificates(dom, other, "winback")) == 1
    await assert_invariants(dom)


async def test_winback_after_70_days_with_cosmocode(dom: Domain, cosmocode: Program) -> None:
    await set_program(dom, cosmocode, None, "COSMOCODE")
    guest = await register(dom)
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 15)
    await buy(dom, guest, 3000)
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 5, 10))  # 69 days
    assert await certificates(dom, guest, "winback") == []
    await live_days(dom, jobs, date(2026, 5, 11))  # 70 days
    [lot] = await certificates(dom, guest, "winback")
    assert lot.amount == 1000


async def test_expiry_warning_then_write_off(dom: Domain, case_a: Program) -> None:
    # A 30-day validity so the test lives a month, not a year; warnings 14 days ahead as in case A.
    await set_program(dom, case_a.model_copy(update={
        "points": case_a.points.model_copy(update={"validity_days": 30})}), None, "30-day points")
    at(dom, date(2026, 3, 2), 10)
    guest = await register(dom)  # 300 welcome points, valid until 01.04.2026 10:00
    jobs = runner(dom)
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 3, 17), hour=12)
    assert await messages(dom, "scheduler-expiry-warning") == []
    await live_days(dom, jobs, date(2026, 3, 18), hour=12)  # 14 days before
    [warning] = await messages(dom, "scheduler-expiry-warning")
    assert I18n().get("ru", warning["key"], **warning["args"]).startswith("⏳ 300 баллов сгорят 01.04.")
    assert I18n().get("en", warning["key"], **warning["args"]).startswith("⏳ 300 points expire on 1 Apr.")
    await live_days(dom, jobs, date(2026, 4, 1), hour=9)
    assert len(await messages(dom, "scheduler-expiry-warning")) == 1  # warned once
    async with dom.db.reading() as s:
        lot = (await s.execute(select(Lot).where(Lot.customer_id == guest, Lot.kind == LotKind.WELCOME))).scalar_one()
    assert lot.remaining == 300 and lot.expired_at is None  # expires at 10:00
    at(dom, date(2026, 4, 1), 10, 1)
    [outcome] = await jobs.run("expire")
    assert outcome.result == {"lots": 1, "points": 300}
    async with dom.db.reading() as s:
        lot = (await s.execute(select(Lot).where(Lot.id == lot.id))).scalar_one()
    assert (lot.remaining, lot.expired_at is not None) == (0, True)
    await assert_invariants(dom)


async def test_rolling_window_downgrade_with_notice(dom: Domain, case_a: Program) -> None:
    windowed = case_a.model_copy(update={"tiers": case_a.tiers.model_copy(update={"window_days": 90})})
    await set_program(dom, windowed, None, "90-day window")
    guest = await register(dom)
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 15)
    await buy(dom, guest, 60_000)  # over 50 000: tier 2 from the next purchase
    await jobs.catch_up()
    async with dom.db.reading() as s:
        assert (await s.get(Customer, guest)).tier_index == 1
    await live_days(dom, jobs, date(2026, 5, 31), step=5)  # 90 days later the purchase is still inside
    async with dom.db.reading() as s:
        assert (await s.get(Customer, guest)).tier_index == 1
    await live_days(dom, jobs, date(2026, 6, 2))
    async with dom.db.reading() as s:
        assert (await s.get(Customer, guest)).tier_index == 0
    [notice] = await messages(dom, "scheduler-tier-down")
    # the preset names tiers in ru and en: the notice carries both, the sender picks the customer's
    assert notice["args"] == {"tier": {"ru": "Статус 1", "en": "Tier 1"},
                              "previous": {"ru": "Статус 2", "en": "Tier 2"}}
    assert render_args(notice["args"], "en", None) == {"tier": "Tier 1", "previous": "Tier 2"}
    await live_days(dom, jobs, date(2026, 6, 10))
    assert len(await messages(dom, "scheduler-tier-down")) == 1


async def test_all_time_program_never_downgrades_and_near_next_notice(dom: Domain) -> None:
    guest = await register(dom)
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 15)
    await buy(dom, guest, 46_000)  # 92% of 50 000: near "Статус 2"
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 3, 3))
    [near] = await messages(dom, "scheduler-tier-near-money")
    assert near["args"] == {"tier": {"ru": "Статус 2", "en": "Tier 2"}, "kopecks": 400_000}
    ru = I18n().get("ru", near["key"], **render_args(near["args"], "ru", None))
    assert "«Статус 2»" in ru and ru.endswith(f"осталось купить на 4{NBSP}000{NBSP}₽.")
    assert "“Tier 2”" in I18n().get("en", near["key"], **render_args(near["args"], "en", None))
    await buy(dom, guest, 100)
    await live_days(dom, jobs, date(2026, 3, 5))
    assert len(await messages(dom, "scheduler-tier-near-money")) == 1  # once per tier
    await live_days(dom, jobs, date(2026, 5, 1), step=10)  # an all-time program never goes down
    async with dom.db.reading() as s:
        assert (await s.get(Customer, guest)).tier_index == 0
    assert await messages(dom, "scheduler-tier-down") == []


@pytest.mark.parametrize("slice_size", [automation.TIER_SLICE, 2], ids=["one-slice", "slices-of-2"])
async def test_program_change_recalculates_everyone(dom: Domain, case_a: Program, slice_size: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The first tier run after a program change recomputes every customer; it commits id slice
    by id slice, and every customer of every slice is reached."""
    monkeypatch.setattr(automation, "TIER_SLICE", slice_size)
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 15)
    spent = [30_000, 10_000, 25_000, 40_000, 5_000]  # 3 of 5 over the lowered threshold
    guests = [await register(dom) for _ in spent]
    for guest, amount in zip(guests, spent, strict=True):
        await buy(dom, guest, amount)
    await jobs.catch_up()
    lower = case_a.tiers.levels[1].model_copy(update={"threshold": Decimal(20_000)})
    levels = [case_a.tiers.levels[0], lower, *case_a.tiers.levels[2:]]
    await set_program(dom, case_a.model_copy(update={"tiers": case_a.tiers.model_copy(update={"levels": levels})}),
                      None, "lower tier 2")
    [outcome] = await jobs.run("tiers")
    assert outcome.result["full"] and outcome.result["up"] == 3
    async with dom.db.reading() as s:
        tiers = [(await s.get(Customer, g)).tier_index for g in guests]
    assert tiers == [1, 0, 1, 1, 0]
    assert len(await messages(dom, "scheduler-tier-up")) == 3
    [again] = await jobs.run("tiers", date(2026, 3, 2))
    assert again.result["recalculated"] == 0


async def test_three_days_down_are_caught_up_without_doubling(dom: Domain) -> None:
    born = {d: await register(dom, birthday=date(1990, 3, d)) for d in (2, 3, 4, 5, 6)}
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 13)
    await jobs.catch_up()
    at(dom, date(2026, 3, 6), 9)  # down on the 3rd, 4th and 5th; back at 09:00 on the 6th
    outcomes = await jobs.catch_up()
    assert [o.business_date for o in outcomes if o.job == "birthday"] == [
        date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)]
    for d in (2, 3, 4, 5):
        assert len(await certificates(dom, born[d])) == 1, d
    assert await certificates(dom, born[6]) == []  # today's turn comes at 12:00
    assert await jobs.catch_up() == []
    at(dom, date(2026, 3, 6), 12)
    await jobs.catch_up()
    assert [len(await certificates(dom, cid)) for cid in born.values()] == [1] * 5
    async with dom.db.reading() as s:
        days = (await s.execute(select(func.count()).select_from(JobRun).where(JobRun.name == "birthday"))).scalar()
    assert days == 5
    await assert_invariants(dom)


async def test_catch_up_stops_at_the_certificates_validity(dom: Domain) -> None:
    early = await register(dom, birthday=date(1990, 3, 3))
    late = await register(dom, birthday=date(1990, 3, 10))
    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 13)
    await jobs.catch_up()
    at(dom, date(2026, 3, 20), 13)  # down 17 days; the certificate is valid 15
    outcomes = {o.business_date: o for o in await jobs.catch_up() if o.job == "birthday"}
    assert outcomes[date(2026, 3, 3)].result["skipped"] == "beyond the certificate's validity"
    assert await certificates(dom, early) == []
    [lot] = await certificates(dom, late)
    assert lot.expires_at == dom.clock.now() + timedelta(days=15)


async def test_monthly_report_to_owners_and_a_swapped_builder(dom: Domain) -> None:
    guest = await register(dom)
    at(dom, date(2026, 3, 10), 15)
    await buy(dom, guest, 12_250)
    jobs = runner(dom)
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 4, 1), hour=8)
    assert await messages(dom, "report-monthly") == []
    at(dom, date(2026, 4, 1), 9)
    await jobs.catch_up()
    [report] = await messages(dom, "report-monthly")  # the same figures as /report, one definition
    assert report["chat_id"] == OWNER
    assert report["args"]["month"] == "03.2026" and report["args"]["purchases"] == 1
    assert report["args"]["revenue"] == 1_225_000 and report["args"]["new"] == 1
    text = I18n().get("ru", report["key"], **report["args"])
    assert "Итоги за 03.2026" in text and f"12{NBSP}250{NBSP}₽" in text
    await jobs.run("monthly_report")
    assert len(await messages(dom, "report-monthly")) == 1

    async def full_report(session, month, tz):  # type: ignore[no-untyped-def]
        return {"key": "reports-monthly", "args": {"month": month.isoformat()}}

    custom = runner(dom, monthly_report=full_report, owner_ids=[OWNER, 778])
    await custom.run("monthly_report")
    [mine] = await messages(dom, "reports-monthly")
    assert mine["chat_id"] == 778 and mine["args"] == {"month": "2026-03-01"}


async def test_housekeeping_purges_codes_and_runs_registered_cleanups(dom: Domain) -> None:
    guest = await register(dom)
    await issue_code(dom, guest)
    calls: list[str] = []

    async def stale_quotes(session, now):  # type: ignore[no-untyped-def]
        calls.append(now.isoformat())
        return 2

    register_housekeeping("checkout_quotes", stale_quotes)
    try:
        at(dom, date(2026, 3, 5), 5)
        [outcome] = await runner(dom).run("housekeeping")
    finally:
        HOUSEKEEPING.pop("checkout_quotes")
    assert outcome.result["customer_codes"] == 1 and outcome.result["checkout_quotes"] == 2
    async with dom.db.reading() as s:
        assert (await s.execute(select(func.count()).select_from(CustomerCode))).scalar() == 0


async def test_failed_day_is_retried_before_later_days(dom: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler import jobs as jobs_module

    jobs = runner(dom)
    at(dom, date(2026, 3, 2), 13)
    await jobs.catch_up()
    calls: list[date] = []
    real = jobs.job("birthday").run

    async def flaky(ctx, day):  # type: ignore[no-untyped-def]
        calls.append(day)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return await real(ctx, day)

    broken = [j if j.name != "birthday" else jobs_module.Job(j.name, j.at, flaky, j.description) for j in jobs.jobs]
    flaky_runner = runner(dom, jobs=broken)
    at(dom, date(2026, 3, 5), 13)
    outcomes = [o for o in await flaky_runner.catch_up() if o.job == "birthday"]
    assert [(o.business_date, o.status) for o in outcomes] == [(date(2026, 3, 3), "failed")]
    outcomes = [o for o in await flaky_runner.catch_up() if o.job == "birthday"]
    assert [o.business_date for o in outcomes] == [date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)]


async def test_future_dates_are_refused(dom: Domain) -> None:
    jobs = runner(dom)
    with pytest.raises(FutureDate):
        await jobs.run("birthday", date(2026, 3, 3))
    with pytest.raises(FutureDate):
        await jobs.catch_up(until=date(2026, 3, 3))


async def test_sandbox_catch_up_until_a_day_ignores_the_time_of_day(dom: Domain) -> None:
    cid = await register(dom, birthday=date(1990, 3, 9))
    jobs = runner(dom)
    at(dom, date(2026, 3, 9), 0, 30)
    outcomes = await jobs.catch_up(until=date(2026, 3, 9))
    assert {o.business_date for o in outcomes} == {date(2026, 3, d) for d in range(2, 10)}
    assert len(await certificates(dom, cid)) == 1


async def test_rolling_window_downgrade_across_the_autumn_dst_change(dom: Domain, case_a: Program) -> None:
    # Berlin falls back on 25.10.2026: that day is 25 hours long. A purchase made 30 days before,
    # at 00:30 local, leaves a 30-day window on 26.10 and must be among that day's recalculations.
    dom.tz = ZoneInfo("Europe/Berlin")
    jobs = runner(dom)
    at(dom, date(2026, 9, 20), 15)
    windowed = case_a.model_copy(update={"tiers": case_a.tiers.model_copy(update={"window_days": 30})})
    await set_program(dom, windowed, None, "30-day window")
    guest = await register(dom)
    await jobs.catch_up()
    at(dom, date(2026, 9, 25), 0, 30)
    await buy(dom, guest, 60_000)
    await live_days(dom, jobs, date(2026, 10, 25))
    async with dom.db.reading() as s:
        assert (await s.get(Customer, guest)).tier_index == 1  # still inside the window
    await live_days(dom, jobs, date(2026, 10, 26))
    async with dom.db.reading() as s:
        assert (await s.get(Customer, guest)).tier_index == 0
    assert len(await messages(dom, "scheduler-tier-down")) == 1


async def test_a_lease_renewal_that_fails_stops_the_run_instead_of_crashing_it(
        dom: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite: a renewal waits at most busy_timeout for the write lock and then raises. The run must
    # treat that as a lost lease (stop between jobs), not go on unrenewed and then raise.
    from sqlalchemy.exc import OperationalError

    from models.kernel.leases import Lease

    async def locked(self: Lease) -> bool:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    cid = await register(dom, birthday=date(1990, 3, 4))
    at(dom, date(2026, 3, 4), 13)
    monkeypatch.setattr(Lease, "renew", locked)
    flaky = runner(dom, lease_ttl=timedelta(0))  # the heartbeat renews at the first await
    outcomes = await flaky.catch_up()
    assert all(o.status == "done" for o in outcomes)
    monkeypatch.undo()
    rest = await runner(dom, lease_name=flaky.lease_name).catch_up()
    assert {(o.job, o.business_date) for o in outcomes + rest} == {
        (j.name, date(2026, 3, d)) for j in flaky.jobs for d in (2, 3, 4)}
    assert len(await certificates(dom, cid)) == 1


async def test_a_certificate_with_points_left_is_recalled_three_days_before_it_ends(dom: Domain) -> None:
    """Issue 16: a certificate gets a reminder before it expires, once, and not after it was
    spent; the regular expiry warning stays as it was."""
    from models.automation.jobs import CERTIFICATE_REMINDER_DAYS
    from models.campaigns.certificates import owner_certificate
    from models.purchase.purchases import PurchaseRequest, commit_purchase

    at(dom, date(2026, 3, 2), 10)
    anna = await register(dom)
    boris = await register(dom)
    await owner_certificate(dom, anna, 500, Decimal(100), 15)  # until 17.03 10:00
    spent = await owner_certificate(dom, boris, 200, Decimal(100), 15)
    assert spent is not None
    await commit_purchase(dom, PurchaseRequest(customer_id=boris, amount_kopecks=20_000, points=200,
                                               phone_confirmed=True, certificate_lot_id=spent.id))
    jobs = runner(dom)
    await jobs.catch_up()
    await live_days(dom, jobs, date(2026, 3, 13), hour=12)
    assert await messages(dom, "scheduler-certificate-reminder") == []
    await live_days(dom, jobs, date(2026, 3, 17 - CERTIFICATE_REMINDER_DAYS), hour=12)
    [reminder] = await messages(dom, "scheduler-certificate-reminder")
    assert reminder["chat_id"] == (await messages(dom, None, anna))[0]["chat_id"]
    assert I18n().get("ru", reminder["key"], **reminder["args"]).startswith(
        "🎁 Напоминаем: ваш сертификат на 500 баллов действует до 17.03 включительно.")
    assert "500 points works until" in I18n().get("en", reminder["key"], **reminder["args"])
    await live_days(dom, jobs, date(2026, 3, 16), hour=12)
    assert len(await messages(dom, "scheduler-certificate-reminder")) == 1  # once
    await assert_invariants(dom)
