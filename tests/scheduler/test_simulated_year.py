"""A simulated year of automatic work (issue 5): the clock moves day by day and the runner's
catch-up does the rest, with the case-A program (in a 180-day rolling-window variant, so tiers
can go down) and with COSMOCODE. Every few days the "bot is down" for a while, so catch-up is
exercised throughout; at the end every rule is checked against what a calendar says."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models.automation.jobs import birthday_target
from models.kernel.context import Domain
from models.kernel.tables import Customer, JobRun, Lot, LotKind
from models.program.rules import Program
from models.program.store import set_program
from tests.helpers import assert_invariants, register
from tests.scheduler.support import at, buy, certificates, messages, runner

START = date(2026, 3, 2)
END = date(2027, 3, 12)  # a year and ten days: last year's welcome points expire inside it
DOWN = {date(2026, 5, 3), date(2026, 5, 4), date(2026, 5, 5), date(2026, 12, 31), date(2027, 2, 28)}
BIRTHDAYS = [date(2000, 2, 29), date(1990, 2, 28), date(1990, 3, 1), date(1985, 3, 2), date(1980, 3, 5),
             date(1995, 5, 4), date(1970, 12, 31), date(1999, 1, 1), date(1991, 7, 15)]


def purchase_days(after_days: int) -> dict[int, list[date]]:
    """Per shopper (by index): when they buy. Gaps just under and just over the win-back limit
    and a shopper who comes back twice (repeated periods of inactivity)."""
    d = START
    return {
        0: [d, d + timedelta(days=after_days + 5), d + timedelta(days=2 * after_days + 20)],
        1: [d + timedelta(days=i * (after_days - 1)) for i in range(5)],  # never inactive long enough
        2: [d + timedelta(days=10)],
        3: [d, d + timedelta(days=3)],
    }


def expected_winbacks(days: list[date], after: int) -> int:
    count = 0
    for i, day in enumerate(days):
        nxt = days[i + 1] if i + 1 < len(days) else None
        due = day + timedelta(days=after)
        if due <= END and (nxt is None or nxt > due):
            count += 1
    return count


def expected_birthdays(born: date) -> int:
    served = 0
    d = START
    while d <= END:
        target, days = birthday_target(d, 0)
        if target.month == born.month and born.day in days:
            served += 1
        d += timedelta(days=1)
    return served


# About a minute per case on this shared machine (2,700 job-days): run with `-m slow`. Each rule
# also has a short test of its own in test_jobs.py that runs by default.
@pytest.mark.slow
@pytest.mark.parametrize("case", ["case-a-window", "cosmocode"])
async def test_a_year_of_jobs(dom: Domain, case: str, case_a: Program, cosmocode: Program) -> None:
    program = cosmocode if case == "cosmocode" else case_a.model_copy(
        update={"tiers": case_a.tiers.model_copy(update={"window_days": 180})})
    await set_program(dom, program, None, case)
    assert program.winback is not None
    after = program.winback.after_days
    at(dom, START, 10)
    celebrants = {born: await register(dom, birthday=born) for born in BIRTHDAYS}
    shoppers = {i: await register(dom, name=f"Shopper {i}") for i in range(4)}
    plan = purchase_days(after)
    big_spender = await register(dom, name="Big")
    jobs = runner(dom)

    day = START
    while day <= END:
        at(dom, day, 10)
        for i, days in plan.items():
            if day in days:
                await buy(dom, shoppers[i], 1500)
        if day == START:
            await buy(dom, big_spender, 60_000 if case != "cosmocode" else 25_000)
        if day not in DOWN:
            at(dom, day, 23)
            await jobs.catch_up()
        day += timedelta(days=1)
    at(dom, END, 23)
    await jobs.catch_up()

    # Birthdays: once per year each, 29 February on the 28th, missed days caught up.
    for born, cid in celebrants.items():
        assert len(await certificates(dom, cid, "birthday")) == expected_birthdays(born), born
    assert len(await certificates(dom, celebrants[date(2000, 2, 29)], "birthday")) == 1
    # Win-back after 30 (case A) or 70 (COSMOCODE) days, once per period of inactivity.
    for i, cid in shoppers.items():
        assert len(await certificates(dom, cid, "winback")) == expected_winbacks(plan[i], after), i
    assert expected_winbacks(plan[0], after) == 3 and expected_winbacks(plan[1], after) == 1
    # Expiry: everybody's welcome points were announced once and written off after a year.
    async with dom.db.reading() as s:
        welcome = (await s.execute(select(Lot).where(Lot.kind == LotKind.WELCOME))).scalars().all()
    assert welcome and all(lot.remaining == 0 and lot.expired_at is not None for lot in welcome)
    assert all(lot.warned_at is not None for lot in welcome)
    warned = Counter(m["chat_id"] for m in await messages(dom, "scheduler-expiry-warning"))
    assert len(warned) >= len(welcome) and max(warned.values()) <= 6
    # Tiers: with a rolling window the big spender went up and came down again, with a notice.
    async with dom.db.reading() as s:
        big = await s.get(Customer, big_spender)
        assert big is not None
    if case == "cosmocode":
        assert big.tier_index == 1  # all time: stays
        assert await messages(dom, "scheduler-tier-down") == []
    else:
        assert big.tier_index == 0
        # The tier's name in every language: the sender picks the customer's (bot/sender.py).
        assert [m["args"]["previous"] for m in await messages(dom, "scheduler-tier-down", big_spender)] == [
            {"ru": "Статус 2", "en": "Tier 2"}]
    # Every job ran every day exactly once, including the days the bot was down.
    async with dom.db.reading() as s:
        per_job = dict((await s.execute(select(JobRun.name, func.count()).group_by(JobRun.name))).all())
    assert set(per_job.values()) == {(END - START).days + 1}
    # Monthly reports: one per month that ended, to the owner.
    assert len(await messages(dom, "report-monthly")) == 12
    # Nothing was announced twice.
    keys = [m["dedupe_key"] for m in await messages(dom) if m["dedupe_key"] is not None]
    assert len(keys) == len(set(keys))
    await assert_invariants(dom)
