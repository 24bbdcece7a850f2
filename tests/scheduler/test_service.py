"""start_scheduler: one cron trigger per job in the business's time zone, plus the catch-up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.services import Services
from models.kernel.context import Domain
from scheduler.runner import JobRunner
from scheduler.service import CATCH_UP_EVERY, start_scheduler


def _fields(trigger: CronTrigger) -> dict[str, str]:
    return {f.name: str(f) for f in trigger.fields}


async def test_jobs_are_registered_with_cron_triggers_in_business_time(dom: Domain) -> None:
    dom.tz = ZoneInfo("Asia/Yekaterinburg")  # not the machine's zone, not Moscow
    services = Services(settings=Settings(owner_ids=frozenset({42})), dom=dom)
    scheduler = start_scheduler(services, catch_up_on_start=False)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        expected = {"expire": ("*", "0", "5"), "housekeeping": ("*", "4", "0"), "monthly_report": ("1", "9", "0"),
                    "tiers": ("*", "10", "0"), "expiry_warnings": ("*", "11", "0"), "birthday": ("*", "12", "0"),
                    "winback": ("*", "12", "30")}
        assert set(jobs) == {*expected, "catch_up"}
        for name, (day, hour, minute) in expected.items():
            trigger = jobs[name].trigger
            assert isinstance(trigger, CronTrigger)
            assert str(trigger.timezone) == "Asia/Yekaterinburg"
            fields = _fields(trigger)
            assert (fields["day"], fields["hour"], fields["minute"]) == (day, hour, minute), name
        birthday = jobs["birthday"].trigger.get_next_fire_time(
            None, datetime(2026, 3, 2, 6, 59, tzinfo=ZoneInfo("UTC")))  # 11:59 there
        assert birthday == datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
        catch_up = jobs["catch_up"].trigger
        assert isinstance(catch_up, IntervalTrigger) and catch_up.interval == CATCH_UP_EVERY
        runner = services.job_runner
        assert isinstance(runner, JobRunner) and runner.context.owner_ids == frozenset({42})
    finally:
        scheduler.shutdown(wait=False)


async def test_the_scheduler_sends_the_full_monthly_report(dom: Domain) -> None:
    """build_runner wires the reports area's monthly summary, not the short placeholder."""
    from datetime import date

    from scheduler.service import build_runner
    from tests.helpers import register
    from tests.scheduler.support import messages

    await register(dom)
    services = Services(settings=Settings(owner_ids=frozenset({42})), dom=dom)
    result = await build_runner(services).run("monthly_report", date(2026, 3, 1))
    assert result is not None
    [report] = await messages(dom, "report-monthly")
    assert report["chat_id"] == 42 and report["args"]["month"] == "02.2026"
