"""Edge cases of the report found by an audit."""

from __future__ import annotations

from models.context import Domain
from models.reports import build_report
from tests.reports.test_figures import MARCH, RUB, build_data_set


async def test_a_cohort_leaves_the_funnels_complete(dom: Domain) -> None:
    await build_data_set(dom)
    full = await build_report(dom, *MARCH)
    for by in ("source:referral", "source:walk_in"):
        for reference in (False, True):
            scoped = await build_report(dom, *MARCH, by=by, reference=reference)
            assert scoped.funnels == full.funnels  # docs/REPORTS.md: "the funnels stay complete"
    partner = {f.code: f for f in full.funnels}["partner1"]
    assert (partner.buyers, partner.revenue) == (1, 10_000 * RUB)
