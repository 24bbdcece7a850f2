"""The report's charts, read as matplotlib objects (not pixels): every chart has a title and
axis labels in the owner's language, counts sit on whole-number axes, money axes are roubles
with digit grouping, and every text and bar stands out from what is behind it (WCAG 2.1
contrast, computed here with the standard's own formula)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib.style
import pytest
from matplotlib.colors import to_rgba
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from bot.commands.simulate import scheduler_jobs
from bot.i18n import I18n
from bot.report_render import chart_figures, chart_style, render_charts
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.program.rules import Program
from models.reports.report import Report, build_report
from models.reports.simulator import SimulationConfig, simulate
from tests.conftest import make_database
from tests.reports.test_figures import MARCH, build_data_set

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
SIMULATION = SimulationConfig(customers=40, months=3, seed=5, start=date(2026, 1, 5))


def luminance(colour: Any) -> float:
    """WCAG 2.1 relative luminance."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = to_rgba(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: Any, b: Any) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def simulated_report(tmp_path: Path, program: Program) -> Report:
    """Three months of a simulated business in a real SQLite file, reported over all time."""
    db, _ = await make_database("sqlite", tmp_path)
    try:
        await db.create_all()
        dom = Domain(db=db, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), tz=ZoneInfo("Europe/Moscow"))
        await simulate(dom, program, SIMULATION, jobs=scheduler_jobs(dom))
        return await build_report(dom, None, None)
    finally:
        await db.dispose()


def _background_of(text: Text, fig: Any) -> list[Any]:
    """What a text is drawn on: its legend's frame, a heatmap cell, or the axes and the figure
    (tick labels and titles sit outside the plotting area, on the figure)."""
    for legend in fig.findobj(Legend):
        if text in legend.get_texts():
            return [legend.get_frame().get_facecolor()]
    ax = text.axes
    if ax is not None and text in ax.texts and ax.images:
        image = ax.images[0]
        column, row = (round(v) for v in text.get_position())
        return [image.cmap(image.norm(image.get_array()[row][column]))]
    return [fig.get_facecolor()] + ([ax.get_facecolor()] if ax is not None else [])


def _check_readable(name: str, fig: Any, locale: str) -> None:
    fig.draw_without_rendering()  # creates the ticks and their labels as they will be saved
    main = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert main, name
    for ax in main:
        title, xlabel, ylabel = ax.get_title(), ax.get_xlabel(), ax.get_ylabel()
        assert title and xlabel and ylabel, (name, title, xlabel, ylabel)
        for label in (title, xlabel, ylabel):
            assert bool(CYRILLIC.search(label)) == (locale == "ru"), (name, label)
        for text in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            assert text.get_text() == "" or "e+" not in text.get_text(), name  # no scientific notation
    # Every piece of text reaches 4.5:1 against what it is drawn on.
    texts = [x for x in fig.findobj(Text) if x.get_visible() and x.get_text().strip()]
    assert len(texts) > 5
    for text in texts:
        for background in _background_of(text, fig):
            ratio = contrast(text.get_color(), background)
            assert ratio >= 4.5, (name, text.get_text(), text.get_color(), background, ratio)
    # Bars reach 3:1 against the plotting area (WCAG 1.4.11, non-text contrast), and each
    # series in a chart has a colour of its own.
    for ax in main:
        series = [container for container in ax.containers if len(container)]
        for container in series:
            for bar in container:
                assert contrast(bar.get_facecolor(), ax.get_facecolor()) >= 3.0, (name, bar.get_facecolor())
        colours = [to_rgba(container[0].get_facecolor()) for container in series]
        assert len(set(colours)) == len(colours), name
        if len(series) > 1:
            legend = ax.get_legend()
            assert legend is not None and legend.get_frame().get_alpha() in (None, 1.0), name


def _integer_axis(axis: Any) -> None:
    locator = axis.get_major_locator()
    assert isinstance(locator, MaxNLocator) and locator._integer  # its only record of integer=True
    ticks = axis.get_ticklocs()
    assert len(ticks) >= 2 and all(float(v).is_integer() for v in ticks), ticks


def _check_axes(figures: dict[str, Any], i18n: I18n, locale: str) -> None:
    t = i18n.translator(locale)
    revenue = figures["revenue_by_month.png"].axes[0]
    assert revenue.get_title() == t("chart-revenue-title") and revenue.get_xlabel() == t("chart-month-axis")
    assert "₽" in revenue.get_ylabel()
    _integer_axis(revenue.yaxis)
    grouped = revenue.yaxis.get_major_formatter()
    assert grouped(12_250, 0) == ("12\u00a0250" if locale == "ru" else "12,250")
    new = figures["new_customers_by_source.png"].axes[0]
    assert new.get_ylabel() == t("chart-new-axis")
    _integer_axis(new.yaxis)
    if "rfm_grid.png" in figures:
        rfm, scale = figures["rfm_grid.png"].axes
        assert rfm.get_xlabel() == t("chart-rfm-r") and rfm.get_ylabel() == t("chart-rfm-f")
        assert scale.get_ylabel() == t("chart-rfm-scale")
        _integer_axis(scale.yaxis)
    if "referral_depth.png" in figures:
        _integer_axis(figures["referral_depth.png"].axes[0].yaxis)
    if "campaign_funnels.png" in figures:
        funnels = figures["campaign_funnels.png"].axes[0]
        assert funnels.get_xlabel() == t("chart-funnel-axis")
        _integer_axis(funnels.xaxis)


@pytest.mark.parametrize("locale", ["ru", "en"])
async def test_charts_of_a_simulated_business_are_readable(tmp_path: Path, case_a: Program, i18n: I18n,
                                                           locale: str) -> None:
    report = await simulated_report(tmp_path, case_a)
    assert report.rfm is not None and report.rfm.buyers and report.funnels
    with chart_style():
        figures = dict(chart_figures(report, i18n.translator(locale)))
        assert {"revenue_by_month.png", "new_customers_by_source.png", "rfm_grid.png",
                "campaign_funnels.png"} <= set(figures)
        _check_axes(figures, i18n, locale)
        for name, fig in figures.items():
            _check_readable(name, fig, locale)


async def test_every_chart_of_the_hand_built_report_is_readable(dom: Domain, i18n: I18n) -> None:
    # Small counts (1 or 2 customers) are where a default axis shows 0.5 steps.
    await build_data_set(dom)
    report = await build_report(dom, *MARCH)
    for locale in ("ru", "en"):
        with chart_style():
            figures = dict(chart_figures(report, i18n.translator(locale)))
            assert list(figures) == ["revenue_by_month.png", "new_customers_by_source.png", "rfm_grid.png",
                                     "referral_depth.png", "campaign_funnels.png"]
            _check_axes(figures, i18n, locale)
            for name, fig in figures.items():
                _check_readable(name, fig, locale)
        generations = figures["referral_depth.png"].axes[0]
        assert generations.get_xlabel() == i18n.translator(locale)("chart-referral-generation")


async def test_a_dark_style_elsewhere_in_the_process_does_not_reach_the_charts(dom: Domain, i18n: I18n) -> None:
    await build_data_set(dom)
    report = await build_report(dom, *MARCH)
    with matplotlib.style.context("dark_background"):  # white text on black, set globally
        pngs = render_charts(report, i18n.translator("ru"))
        with chart_style():
            figures = chart_figures(report, i18n.translator("ru"))
            for name, fig in figures:
                _check_readable(name, fig, "ru")
                assert contrast(fig.get_facecolor(), "white") == 1.0
    assert [name for name, _ in pngs] == [name for name, _ in figures]
    assert all(png.startswith(b"\x89PNG") for _, png in pngs)
