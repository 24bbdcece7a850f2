"""Reports must not freeze the bot (issue 21, section 4): while `/report` renders its charts
and workbook, a till's purchase through the partner API (same process, same event loop, as in
`loyalty-bot run`) is answered.

The render is held at a gate (tests/reports/render_gate.py) until the purchase has been
answered, so the order is forced, not timed: with the rendering on the event loop, the gate
would block the loop, the purchase could not be served and the gate would give up.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot import report_render
from bot.http import build_app
from bot.report_pool import ReportRenderer, process_pool
from handlers import owner_reports
from models.partner.api_keys import create_api_key
from models.purchase.purchases import PurchaseRequest, commit_purchase
from tests.bot.conftest import BotEnv, botenv  # noqa: F401
from tests.helpers import assert_invariants, balance, fresh_code, register
from tests.reports import render_gate

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def _until(condition: Callable[[], bool], tries: int = 3000) -> None:
    """Poll `condition` every 0.02 s (a safety limit only: the test never asserts on time)."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


async def test_a_till_purchase_completes_while_a_report_renders(botenv: BotEnv, tmp_path: Path,  # noqa: F811
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    # The gate in this process too: a render on the event loop (the old design) would meet it here.
    in_process = render_gate.gated(report_render.render_charts, str(gate))
    monkeypatch.setattr(report_render, "render_charts", in_process)
    monkeypatch.setattr(owner_reports, "render_charts", in_process, raising=False)  # the old handler's import
    renderer = ReportRenderer(lambda: process_pool(initializer=render_gate.install, initargs=(str(gate),)))
    botenv.services.renderer = renderer
    try:
        dom = botenv.dom
        regular = await register(dom, phone="+79160000001")
        await commit_purchase(dom, PurchaseRequest(customer_id=regular, amount_kopecks=1_225_000))
        till_customer = await register(dom, phone="+79160000002")
        key = await create_api_key(dom, "till-1")
        owner = botenv.owner

        await owner.send("/report")
        await botenv.press(owner, botenv.text(owner, "report-period-all"))
        await _until(lambda: (gate / "started").exists())  # the report is rendering, held at the gate

        app = build_app(botenv.services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://till",
                                     auth=(str(key.company_id), key.secret)) as till:
            answer = await till.post("/partner/v2/operations", json={
                "code": await fresh_code(dom, till_customer), "nonce": str(uuid.uuid4()),
                "cashier": {"externalId": "kassa-1", "name": "Мария"},
                "receipt": {"total": 1000, "cash": 1000, "points": 0, "number": "A-1"}})
        assert answer.status_code == 200, answer.text
        assert await balance(dom, till_customer) > 0
        # Answered while the report was still held: no chart and no workbook has been sent yet.
        assert not any(m.photo is not None or m.document_name for m in owner.bot_messages())
        assert not (gate / "timed-out").exists()

        (gate / "open").touch()
        await botenv.tg.wait_for(lambda: any(m.document_name for m in owner.bot_messages()), timeout=60)
        assert [m for m in owner.bot_messages() if m.photo is not None]
        assert not (gate / "timed-out").exists()
        await assert_invariants(dom)
    finally:
        renderer.close()


async def test_charts_need_no_pyplot(dom, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Figures are `matplotlib.figure.Figure`s of their own: no pyplot, no global figure state."""
    import sys

    from models.reports.report import build_report

    c = await register(dom)
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000))
    report = await build_report(dom, None, None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # any `import matplotlib.pyplot` fails
    charts = report_render.render_charts(report)
    assert charts and all(png.startswith(b"\x89PNG") for _, png in charts)


async def test_a_dead_worker_is_replaced(dom) -> None:  # type: ignore[no-untyped-def]
    """A worker killed between reports (out of memory, an operator's kill) costs no report."""
    import os
    import signal
    from concurrent.futures import ProcessPoolExecutor

    from models.reports.report import build_report

    c = await register(dom)
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000))
    report = await build_report(dom, None, None)
    renderer = ReportRenderer()
    try:
        charts, xlsx = await renderer.render(report, "en")
        executor = renderer._executor
        assert isinstance(executor, ProcessPoolExecutor)
        [pid] = list(executor._processes)  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
        again = await renderer.render(report, "en")
        assert renderer._executor is not executor
        assert [name for name, _ in again[0]] == [name for name, _ in charts] and again[1][:2] == xlsx[:2] == b"PK"
    finally:
        renderer.close()


async def test_a_worker_that_cannot_start_still_gives_the_report(dom, caplog) -> None:  # type: ignore[no-untyped-def]
    """Two workers dying at start (here: exiting in their initializer) cost no report: it is
    rendered in a thread, and the log says so."""
    import os

    from models.reports.report import build_report

    c = await register(dom)
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000))
    report = await build_report(dom, None, None)
    renderer = ReportRenderer(lambda: process_pool(initializer=os._exit, initargs=(3,)))
    try:
        charts, xlsx = await renderer.render(report, "ru")
    finally:
        renderer.close()
    assert charts and xlsx[:2] == b"PK"
    assert any("rendering it in a thread" in r.getMessage() for r in caplog.records)
