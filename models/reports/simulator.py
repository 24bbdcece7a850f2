"""A business simulator: months of a plausible loyalty program, through the real domain.

`loyalty-bot simulate` uses it to show the product working without Telegram (`make demo`),
and it is a data source for the benchmarks. Everything goes through the domain functions
the bot calls: `register_customer` (referral links, campaign and source links, staff
enrolment links), `create_phone_customer` (staff accruing by phone; some of these people
join in the bot later), `record_link_visit`, `claim_campaign`, `issue_code` and
`commit_purchase` (with the card code, or a phone lookup confirmed by the customer),
`refund_purchase`, `record_sale_without_card`; the scheduler's `JobRunner.catch_up` runs
every morning (birthday and win-back certificates, expiry, tiers, housekeeping).

Two things have no domain function yet and are written here the way the bot records them:
ratings (a `Rating` row for the visit, as the customer's rating button does) and approved
2GIS reviews (a `ReviewClaim` approved once per customer and site, rewarded with a REVIEW
lot through `models.ledger.entries.grant` under the `("review", customer, site)` claim).

Deterministic for a seed: every random choice comes from one `random.Random(seed)`, events
are processed in (time, sequence) order and time is an injected `ManualClock`. Referral and
card codes come from `secrets` but no figure depends on their values.

The shape follows case A (SEEDS.md): most newcomers come from partners' cross-marketing
links, a few by referral, some through social-network source links and staff; ~92% end up
with the card in Telegram, ~57% buy, ~1.9 purchases per buyer, checks lognormal around the
typical check; a share of sales is recorded without a card (with a lower average check).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from models.campaigns.certificates import claim_campaign, record_link_visit
from models.customers.accounts import (
    Attribution,
    Registration,
    create_phone_customer,
    issue_code,
    register_customer,
)
from models.kernel.claims import claim_once, person_key
from models.kernel.clock import ManualClock, start_of_day
from models.kernel.context import Domain
from models.kernel.errors import DomainError
from models.kernel.tables import (
    Campaign,
    Customer,
    LotKind,
    Operation,
    OperationKind,
    Rating,
    ReviewClaim,
    ReviewStatus,
    Role,
    Staff,
)
from models.ledger import entries as ledger
from models.program.rules import Program
from models.program.store import current_program, ensure_program
from models.purchase.purchases import (
    PurchaseRequest,
    commit_purchase,
    record_sale_without_card,
    refund_purchase,
)

log = logging.getLogger(__name__)

STAFF_NAMES = ("Анна", "Игорь", "Мария", "Дмитрий", "Ольга", "Сергей")
FIRST_NAMES = ("Алексей", "Елена", "Иван", "Наталья", "Павел", "Светлана", "Роман", "Юлия", "Кирилл", "Ксения")
SOURCE_TAGS = (("instagram", "Instagram"), ("vk", "ВКонтакте"))
EXTRA_CAMPAIGNS = (("partner2", "Партнёр: фитнес-клуб", 500), ("opening", "Открытие: сертификат", 1000))


@dataclass(frozen=True)
class SimulationConfig:
    customers: int = 1200
    months: int = 18
    seed: int = 1
    start: date | None = None  # None: `months` before today, so the data ends today
    typical_check_kopecks: int = 1_225_000  # case A: 12,250 ₽
    check_sigma: float = 0.45  # spread of the lognormal check distribution
    staff: int = 4
    # Where newcomers come from (case A: +715 of 1,158 by cross-marketing; 57 by referral).
    share_campaign: float = 0.60
    share_referral: float = 0.05
    share_source: float = 0.12
    share_staff: float = 0.10  # through a staff member's link; the rest walk in
    share_phone_only: float = 0.09  # staff accrued by phone; about a third join the bot later
    buyer_probability: float = 0.55
    repeat_probability: float = 0.50  # after each purchase, the chance of another one
    mean_gap_days: float = 50.0
    no_card_share: float = 0.25  # of all checks, recorded without a card
    no_card_check_ratio: float = 0.78  # their average check against the card one
    pay_points_probability: float = 0.55
    refund_probability: float = 0.03
    rating_probability: float = 0.07
    review_probability: float = 0.04
    birthday_known: float = 0.75


@dataclass
class SimulationResult:
    days: int = 0
    customers: int = 0
    purchases: int = 0
    refunds: int = 0
    sales_no_card: int = 0
    ratings: int = 0
    reviews: int = 0
    job_runs: int = 0
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, 28))


class Simulator:
    def __init__(self, dom: Domain, program: Program, config: SimulationConfig) -> None:
        if not isinstance(dom.clock, ManualClock):
            raise TypeError("the simulator needs a ManualClock")
        self.dom = dom
        self.clock: ManualClock = dom.clock
        self.program = program
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.result = SimulationResult()
        self._events: list[_Event] = []
        self._seq = itertools.count()
        self._telegram_ids = itertools.count(7_000_000_000 + config.seed * 1_000_000)
        self._phones = itertools.count(1)
        self.staff_ids: list[int] = []
        self.staff_codes: list[str] = []
        self.campaign_codes: list[str] = []
        self.source_codes: list[str] = []
        self.buyers: list[tuple[int, str]] = []  # (customer id, referral code) of people who bought
        self.telegram_of: dict[int, int] = {}  # customer id -> telegram id (those in the bot)

    # --- set-up -------------------------------------------------------------------------

    async def setup(self, start: datetime) -> None:
        self.clock.set(start)
        await ensure_program(self.dom, self.program, comment="simulator")
        async with self.dom.db.transaction() as session:
            for i in range(self.cfg.staff):
                name = STAFF_NAMES[i % len(STAFF_NAMES)]
                member = Staff(display_name=name, role=Role.STAFF, referral_code=f"sim{self.cfg.seed}s{i}",
                               created_at=start, telegram_id=6_000_000_000 + self.cfg.seed * 1000 + i)
                session.add(member)
                await session.flush()
                self.staff_ids.append(member.id)
                self.staff_codes.append(member.referral_code or "")
            existing = set((await session.execute(select(Campaign.code))).scalars())
            for code, name in SOURCE_TAGS:
                if code not in existing:
                    session.add(Campaign(code=code, name=name, is_source=True, points=0, created_at=start))
            for code, name, points in EXTRA_CAMPAIGNS:
                if code not in existing:
                    session.add(Campaign(code=code, name=name, partner=name, points=points, max_redeem_percent="20",
                                         validity_days=30, created_at=start))
            await session.flush()
            campaigns = (await session.execute(select(Campaign.code, Campaign.is_source))).all()
        self.campaign_codes = sorted(code for code, is_source in campaigns if not is_source)
        self.source_codes = sorted(code for code, is_source in campaigns if is_source)

    # --- the event queue ------------------------------------------------------------------

    def push(self, at: datetime, kind: str, **data: Any) -> None:
        heapq.heappush(self._events, _Event(at, next(self._seq), kind, data))

    def business_moment(self, day: date, early: int = 10, late: int = 21) -> datetime:
        minute = self.rng.randrange(early * 60, late * 60)
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.dom.tz)
        return local.astimezone(UTC)

    def check_amount(self, ratio: float = 1.0) -> int:
        sigma = self.cfg.check_sigma
        mu = math.log(self.cfg.typical_check_kopecks * ratio) - sigma * sigma / 2  # the mean is the typical check
        amount = self.rng.lognormvariate(mu, sigma)
        return max(5_000, round(amount / 5_000) * 5_000)  # whole 50 ₽

    # --- running ------------------------------------------------------------------------

    async def run(self, *, jobs: Callable[[date], Awaitable[int]] | None = None) -> SimulationResult:
        cfg = self.cfg
        first = cfg.start or _add_months(self.dom.clock.now().astimezone(self.dom.tz).date(), -cfg.months)
        last = _add_months(first, cfg.months) - timedelta(days=1)
        await self.setup(start_of_day(first, self.dom.tz) + timedelta(hours=7))
        days = (last - first).days + 1
        # Arrivals grow over time (word of mouth, more partners): weight of day i ∝ 1 + i / days.
        weights = [1 + i / days for i in range(days)]
        total = sum(weights)
        per_day = [cfg.customers * w / total for w in weights]
        carry = 0.0
        for i in range(days):
            day = first + timedelta(days=i)
            morning = start_of_day(day, self.dom.tz) + timedelta(hours=8)
            self.clock.set(max(morning, self.clock.now()))
            if jobs is not None:
                self.result.job_runs += await jobs(day)
            carry += per_day[i]
            arrivals = int(carry)
            carry -= arrivals
            if i == days - 1:
                arrivals += round(carry)
            for _ in range(arrivals):
                self.push(self.business_moment(day), "arrive")
            expected_card = cfg.customers * cfg.buyer_probability * 1.9 / days
            no_card = cfg.no_card_share / (1 - cfg.no_card_share) * expected_card
            for _ in range(self._poisson(no_card)):
                self.push(self.business_moment(day), "no_card")
            end_of_day = start_of_day(day + timedelta(days=1), self.dom.tz)
            while self._events and self._events[0].at < end_of_day:
                event = heapq.heappop(self._events)
                self.clock.set(max(event.at, self.clock.now()))
                try:
                    await self.handle(event)
                except DomainError as exc:  # a refused operation is part of a real business too
                    self.result.errors[exc.code] = self.result.errors.get(exc.code, 0) + 1
            self.result.days += 1
        return self.result

    def _poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    async def handle(self, event: _Event) -> None:
        handler = getattr(self, f"on_{event.kind}")
        await handler(**event.data)

    # --- events -------------------------------------------------------------------------

    async def on_arrive(self) -> None:
        cfg = self.cfg
        roll = self.rng.random()
        n = next(self._phones)
        phone = f"+7999{self.cfg.seed % 100:02d}{n:05d}"
        name = self.rng.choice(FIRST_NAMES)
        staff = self.rng.choice(self.staff_ids)
        if roll < cfg.share_phone_only:
            customer_id = await create_phone_customer(self.dom, phone, staff_id=staff, name=name)
            self.result.customers += 1
            if self.rng.random() < 0.35:  # joins the bot later: the records merge
                self.push(self.clock.now() + timedelta(days=self.rng.randint(3, 90)), "join", phone=phone, name=name)
            self.plan_first_purchase(customer_id, phone_only=True)
            return
        attribution = Attribution()
        telegram_id = next(self._telegram_ids)
        roll -= cfg.share_phone_only
        if roll < cfg.share_referral and self.buyers:
            attribution = Attribution(referral_code=self.rng.choice(self.buyers)[1])
        elif roll < cfg.share_referral + cfg.share_campaign:
            code = self.rng.choice(self.campaign_codes)
            for _ in range(self.rng.choice((0, 0, 1, 2))):  # others opened the link and did not register
                await record_link_visit(self.dom, code, next(self._telegram_ids))
            await record_link_visit(self.dom, code, telegram_id)
            attribution = Attribution(campaign_code=code)
        elif roll < cfg.share_referral + cfg.share_campaign + cfg.share_source:
            code = self.rng.choice(self.source_codes)
            await record_link_visit(self.dom, code, telegram_id)
            attribution = Attribution(campaign_code=code)
        elif roll < cfg.share_referral + cfg.share_campaign + cfg.share_source + cfg.share_staff:
            attribution = Attribution(staff_code=self.rng.choice(self.staff_codes))
        birthday = None
        if self.rng.random() < cfg.birthday_known:
            birthday = date(self.rng.randint(1960, 2004), self.rng.randint(1, 12), self.rng.randint(1, 28))
        registered = await register_customer(self.dom, Registration(
            telegram_id=telegram_id, phone=phone, name=name, birthday=birthday, attribution=attribution))
        self.result.customers += 1
        self.telegram_of[registered.customer_id] = telegram_id
        if self.rng.random() < cfg.review_probability:
            self.push(self.clock.now() + timedelta(days=self.rng.randint(1, 30)), "review",
                      customer_id=registered.customer_id)
        if self.rng.random() < 0.05 and self.campaign_codes:  # an existing customer opens another campaign
            self.push(self.clock.now() + timedelta(days=self.rng.randint(5, 120)), "claim",
                      customer_id=registered.customer_id, code=self.rng.choice(self.campaign_codes))
        self.plan_first_purchase(registered.customer_id, phone_only=False)

    def plan_first_purchase(self, customer_id: int, *, phone_only: bool) -> None:
        if phone_only or self.rng.random() < self.cfg.buyer_probability:
            delay = self.rng.expovariate(1 / 8) if not phone_only else 0.0  # phone-only: they are at the till
            self.push(self.clock.now() + timedelta(days=delay, minutes=5), "purchase", customer_id=customer_id)

    async def on_join(self, phone: str, name: str) -> None:
        telegram_id = next(self._telegram_ids)
        registered = await register_customer(self.dom, Registration(telegram_id=telegram_id, phone=phone, name=name))
        self.telegram_of[registered.customer_id] = telegram_id

    async def on_claim(self, customer_id: int, code: str) -> None:
        await record_link_visit(self.dom, code, self.telegram_of.get(customer_id, customer_id))
        await claim_campaign(self.dom, customer_id, code)

    async def on_purchase(self, customer_id: int) -> None:
        cfg = self.cfg
        in_bot = customer_id in self.telegram_of
        pays_points = in_bot and self.rng.random() < cfg.pay_points_probability
        code = None
        if pays_points and self.rng.random() < 0.8:
            code = (await issue_code(self.dom, customer_id, limited=False)).code  # the card's code at the till
        amount = self.check_amount()
        result = await commit_purchase(self.dom, PurchaseRequest(
            customer_id=customer_id, amount_kopecks=amount, points=None if pays_points else 0,
            staff_id=self.rng.choice(self.staff_ids), code=code, phone_confirmed=pays_points and code is None,
            found_by="code" if code else "phone", idempotency_key=f"sim:{cfg.seed}:{self.result.purchases}",
        ))
        self.result.purchases += 1
        if self.result.purchases % 250 == 0:
            log.info("simulated %d purchases (%s)", self.result.purchases, self.clock.now().date())
        if not any(cid == customer_id for cid, _ in self.buyers[-50:]):
            await self._remember_buyer(customer_id)
        now = self.clock.now()
        if self.rng.random() < cfg.refund_probability:
            part = None if self.rng.random() < 0.6 else amount // 2
            self.push(now + timedelta(days=self.rng.uniform(0.1, 10)), "refund",
                      operation_id=result.operation_id, amount=part)
        if in_bot and self.rng.random() < cfg.rating_probability:
            self.push(now + timedelta(minutes=self.rng.randint(5, 600)), "rate",
                      operation_id=result.operation_id, customer_id=customer_id)
        if self.rng.random() < cfg.repeat_probability:
            gap = self.rng.expovariate(1 / cfg.mean_gap_days) + 1
            self.push(now + timedelta(days=gap), "purchase", customer_id=customer_id)

    async def _remember_buyer(self, customer_id: int) -> None:
        async with self.dom.db.reading() as session:
            code = (await session.execute(select(Customer.referral_code).where(Customer.id == customer_id))).scalar()
        if code and (customer_id, code) not in self.buyers:
            self.buyers.append((customer_id, code))

    async def on_refund(self, operation_id: int, amount: int | None) -> None:
        await refund_purchase(self.dom, operation_id, amount, staff_id=self.rng.choice(self.staff_ids),
                              idempotency_key=f"sim:{self.cfg.seed}:refund:{operation_id}")
        self.result.refunds += 1

    async def on_no_card(self) -> None:
        await record_sale_without_card(self.dom, self.check_amount(self.cfg.no_card_check_ratio),
                                       staff_id=self.rng.choice(self.staff_ids))
        self.result.sales_no_card += 1

    async def on_rate(self, operation_id: int, customer_id: int) -> None:
        score = self.rng.choices((5, 4, 3, 2, 1), weights=(70, 18, 6, 3, 3))[0]
        async with self.dom.db.transaction() as session:
            staff_id = (await session.execute(select(Operation.staff_id).where(Operation.id == operation_id))).scalar()
            session.add(Rating(operation_id=operation_id, customer_id=customer_id, staff_id=staff_id, score=score,
                               created_at=self.clock.now()))
        self.result.ratings += 1

    async def on_review(self, customer_id: int) -> None:
        """An approved 2GIS review, rewarded once per customer and site (DOMAIN.md, "Reviews and ratings")."""
        now = self.clock.now()
        async with self.dom.db.transaction() as session:
            version, program = await current_program(session)
            if not program.reviews:
                return
            review = program.reviews[0]
            if not await claim_once(session, "review", await person_key(session, customer_id), review.key, now=now):
                return
            op = Operation(kind=OperationKind.REWARD, customer_id=customer_id, program_version=version,
                           created_at=now, points_delta=review.points, comment=f"review {review.key}")
            session.add(op)
            await session.flush()
            session.add(ReviewClaim(customer_id=customer_id, site=review.key, file_id="simulated",
                                    status=ReviewStatus.APPROVED, created_at=now, decided_at=now,
                                    operation_id=op.id))
            await ledger.grant(session, customer_id=customer_id, kind=LotKind.REVIEW, amount=review.points,
                               operation=op, now=now, validity_days=program.points.validity_days)
        self.result.reviews += 1


async def simulate(
    dom: Domain, program: Program, config: SimulationConfig,
    *, jobs: Callable[[date], Awaitable[int]] | None = None,
) -> SimulationResult:
    """Simulate `config.months` of business on an empty database (refuses one with customers).

    `jobs(day)` runs each simulated morning: the command line passes the scheduler's catch-up
    (`scheduler.runner.JobRunner.catch_up(until=day)`); the domain does not import the scheduler.
    """
    async with dom.db.reading() as session:
        if (await session.execute(select(func.count()).select_from(Customer))).scalar():
            raise ValueError("the database already has customers; simulate into an empty one (or pass --fresh)")
    simulator = Simulator(dom, program, config)
    return await simulator.run(jobs=jobs)
