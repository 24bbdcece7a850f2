"""Showing a report (models/reports/report.py): the bot's short summary, the detailed text and the
definitions behind its buttons, the command line's text, PNG charts, an XLSX workbook, JSON.

Figures are exact fractions in the report and are rounded here, only for display:
shares as whole percents (one decimal below 10%), the actual discount with two decimals,
ratios with one decimal, averages and benefits to whole roubles (half up).
Every label comes from `bot/locales/<locale>/reports.ftl`; a figure's definition is the
`.def` attribute of its message.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from bot.i18n import Translator, default_i18n, format_number
from models.kernel import CertificateKind, SourceKind
from models.program import default_text, text_in
from models.reports import NONE, SEGMENTS, Report

_DECIMAL = {"ru": ",", "en": "."}


# --- numbers --------------------------------------------------------------------------

def _decimal(value: Fraction, places: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_decimal(value: Fraction | None, locale: str, places: int = 1) -> str:
    if value is None:
        return "—"
    text = str(_decimal(value, places))
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = format_number(abs(int(whole)), locale)
    return f"{sign}{grouped}{_DECIMAL.get(locale, '.')}{frac}" if frac else f"{sign}{grouped}"


def fmt_percent(value: Fraction | None, locale: str, places: int | None = None, signed: bool = False) -> str:
    """A share as percent: whole percents from 10% up, one decimal below (None: a dash)."""
    if value is None:
        return "—"
    pct = value * 100
    if places is None:
        places = 0 if abs(pct) >= 10 or pct == 0 else 1
    text = fmt_decimal(pct, locale, places)
    if signed and pct > 0:
        text = "+" + text
    return f"{text}%"


def whole_roubles(kopecks: Fraction | int | None) -> int | None:
    """Kopecks rounded half up to whole roubles, still in kopecks (for display)."""
    if kopecks is None:
        return None
    return int(_decimal(Fraction(kopecks) / 100, 0)) * 100


def fmt_money(t: Translator, kopecks: Fraction | int | None, exact: bool = False) -> str:
    if kopecks is None:
        return "—"
    if exact and isinstance(kopecks, int):
        return t.money(kopecks)
    return t.money(whole_roubles(kopecks) or 0)


# --- the figures, in the order the owner reads them ---------------------------------------

def benefit_text(t: Translator, report: Report) -> str:
    """The total benefit, said for what it is: a month without purchases has none (not a loss
    of 0 ₽), and a negative one is points paid beyond what a direct discount would cost."""
    if report.benefit_state == "none":
        return t("report-benefit-none")
    if report.benefit_state == "negative":
        return t("report-benefit-negative", amount=fmt_money(t, -report.total_benefit))
    return fmt_money(t, report.total_benefit)


# Every figure's message key, in the order the owner reads them (the detailed text, the XLSX,
# the definitions behind "Что это значит?").
FIGURE_KEYS = (
    "report-customers", "report-new-customers", "report-digitised", "report-buyers", "report-purchases",
    "report-revenue", "report-average-check", "report-purchases-per-buyer", "report-points-paid",
    "report-actual-discount", "report-referred", "report-referral-depth", "report-referred-revenue",
    "report-certificate-revenue", "report-certificates", "report-ratings", "report-saving",
    "report-brought-revenue", "report-total-benefit", "report-card-vs-no-card", "report-no-card-sales",
    "report-return-rate", "report-frequent", "report-top20", "report-buyers-60",
)
# The short summary `/report` sends first: the figures an owner looks at (docs/REPORTS.md,
# "The summary"); the rest is behind "Подробнее".
SUMMARY_KEYS = (
    "report-revenue", "report-purchases", "report-average-check", "report-new-customers",
    "report-return-rate", "report-points-paid", "report-total-benefit",
)


def _figure_values(report: Report, t: Translator) -> dict[str, str]:
    """Every figure's formatted value, by message key."""
    loc = t.locale
    o = report.overall

    def share(value: int, fraction: Fraction | None) -> str:
        return t("report-share", value=t.number(value), share=fmt_percent(fraction, loc))

    cert_parts = ", ".join(
        f"{t(f'report-cert-{kind.value}')} {t.number(report.certificates.get(kind.value, (0, 0))[0])}"
        for kind in CertificateKind if report.certificates.get(kind.value, (0, 0))[0]
    )
    certificates = t.number(report.certificates_issued) + (f" ({cert_parts})" if cert_parts else "")
    values = {
        "report-customers": t.number(o.customers),
        "report-new-customers": t.number(o.new_customers),
        "report-digitised": share(o.digitised, o.digitised_share),
        "report-buyers": share(o.buyers, o.buyers_share),
        "report-purchases": t.number(o.purchases),
        "report-revenue": fmt_money(t, o.revenue, exact=True),
        "report-average-check": fmt_money(t, o.average_check),
        "report-purchases-per-buyer": fmt_decimal(o.purchases_per_buyer, loc, 1),
        "report-points-paid": fmt_money(t, o.points_paid),  # points are whole: no kopecks shown
        "report-actual-discount": fmt_percent(o.actual_discount, loc, 2),
        "report-referred": t("report-of-which", value=t.number(report.referred_customers),
                             bought=t.number(report.referred_buyers)),
        "report-referral-depth": t("report-generations", n=report.referral_depth),
        "report-referred-revenue": fmt_money(t, report.referred_revenue, exact=True),
        "report-certificate-revenue": fmt_money(t, o.certificate_revenue, exact=True),
        "report-certificates": certificates,
        "report-ratings": t("report-rating-value", count=t.number(report.ratings),
                            average=fmt_decimal(report.average_rating, loc, 1)),
        "report-saving": fmt_money(t, report.saving) if report.saving >= 0
        else t("report-saving-negative", amount=fmt_money(t, -report.saving)),
        "report-brought-revenue": fmt_money(t, report.brought_revenue, exact=True),
        "report-total-benefit": benefit_text(t, report),
        "report-card-vs-no-card": t("report-card-vs-no-card-value", card=fmt_money(t, o.average_check),
                                    plain=fmt_money(t, report.no_card_average),
                                    uplift=fmt_percent(report.card_uplift, loc, 0, signed=True)),
        "report-no-card-sales": t("report-share", value=t.number(report.no_card_sales),
                                  share=fmt_money(t, report.no_card_revenue, exact=True)),
        "report-return-rate": fmt_percent(o.return_rate, loc),
        "report-frequent": fmt_percent(o.frequent_share, loc),
        "report-top20": t("report-concentration-value", share=fmt_percent(report.top20_share, loc)),
        "report-buyers-60": fmt_percent(report.buyers_for_60_share, loc),
    }
    return values


def _definition(t: Translator, key: str, baseline_percent: Decimal) -> str:
    percent = fmt_decimal(Fraction(baseline_percent), t.locale, 2).rstrip("0").rstrip(",.")
    return t(f"{key}.def", percent=percent)


def figure_rows(report: Report, t: Translator) -> list[tuple[str, str, str]]:
    """(name, formatted value, definition) for every figure: the text, the XLSX and JSON use it."""
    values = _figure_values(report, t)
    return [(t(key), values[key], _definition(t, key, report.baseline_percent)) for key in FIGURE_KEYS]


def _title(report: Report, t: Translator, key: str = "report-title") -> str:
    args = {"from": t.day(report.period.first_day), "to": t.day(report.period.last_day)}
    if report.scope is not None:
        return t(f"{key}-scope", scope=f"{report.scope.kind}: {report.scope.value}", **args)
    return t(key, **args)


def render_summary(report: Report, t: Translator) -> str:
    """The short summary `/report` sends first: the figures an owner looks at, no definitions
    (they are behind "Что это значит?"), the rest behind "Подробнее"."""
    values = _figure_values(report, t)
    lines = [_title(report, t), ""]
    lines += [t("report-line", name=t(key), value=values[key]) for key in SUMMARY_KEYS]
    return "\n".join(lines)


def render_details(report: Report, t: Translator) -> str:
    """What "Подробнее" sends: every figure and the short tables, without definitions."""
    return render_text(report, t, definitions=False, title_key="report-details-title")


def render_definitions(t: Translator, baseline_percent: Decimal) -> str:
    """What "Что это значит?" sends: every figure's name with its one-line definition, then the
    customer groups (RFM segments). The same definitions are in the XLSX."""
    lines = [t("report-definitions-title")]
    for key in FIGURE_KEYS:
        lines += ["", f"▪️ {t(key)}", _definition(t, key, baseline_percent)]
    lines += ["", t("report-section-rfm")]
    for segment in SEGMENTS:
        lines += ["", f"▪️ {t(f'rfm-{segment}')}", t(f"rfm-{segment}.def")]
    return "\n".join(lines)


def render_text(report: Report, t: Translator, *, definitions: bool = True, tables: bool = True,
                title_key: str = "report-title") -> str:
    """Every figure (with its definition unless `definitions=False`), then the short tables:
    the command line's text report; the bot sends `render_summary` and, on request,
    `render_details` and `render_definitions`."""
    lines = [_title(report, t, title_key), ""]
    for name, value, definition in figure_rows(report, t):
        lines.append(t("report-line", name=name, value=value))
        if definitions:
            lines.append(f"   {t('report-definition', text=definition)}")
    if not tables:
        return "\n".join(lines)
    loc = t.locale
    lines += ["", t("report-section-sources")]
    for group in report.by_source:
        f = group.figures
        if f.customers or f.buyers:
            lines.append("• " + t("report-source-line", name=t(f"report-source-{group.key}"),
                                  customers=t.number(f.customers), buyers=t.number(f.buyers),
                                  revenue=fmt_money(t, f.revenue, exact=True)))
    if report.staff:
        lines += ["", t("report-section-staff")]
        for s in report.staff:
            lines.append("• " + t("report-staff-line", name=s.name, purchases=t.number(s.purchases),
                                  sales=t.number(s.sales_no_card), revenue=fmt_money(t, s.revenue, exact=True),
                                  average=fmt_money(t, s.average_check),
                                  points=fmt_money(t, s.points_paid, exact=True),
                                  enrolled=t.number(s.enrolled),
                                  rating=fmt_decimal(s.average_rating, loc, 1)))
    if report.funnels:
        lines += ["", t("report-section-campaigns")]
        for c in report.funnels:
            lines.append("• " + t("report-campaign-line", name=text_in(c.name, t.locale), opened=t.number(c.opened),
                                  registered=t.number(c.registered), certificates=t.number(c.certificates),
                                  buyers=t.number(c.buyers), revenue=fmt_money(t, c.revenue, exact=True),
                                  cost=t("points", n=c.cost_points)))
    if report.promos:
        lines += ["", t("report-section-promos")]
        for p in report.promos:
            lines.append("• " + t("report-promo-line", code=p.code, uses=t.number(p.uses),
                                  points=t("points", n=p.points)))
    if report.rfm is not None and report.rfm.buyers:
        lines += ["", t("report-section-rfm")]
        for row in report.rfm.segments:
            lines.append("• " + t("report-rfm-line", name=t(f"rfm-{row.segment}"),
                                  customers=t.number(row.customers), revenue=fmt_money(t, row.revenue, exact=True)))
    return "\n".join(lines)


def split_message(text: str, limit: int = 4000) -> list[str]:
    """Telegram takes at most 4096 characters a message: split at line ends, never mid-line
    (a single longer line is cut hard)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


# --- JSON -------------------------------------------------------------------------------

def _exact(value: Fraction | None) -> str | None:
    """Fractions as decimal strings with 6 places (JSON has no exact rationals)."""
    return None if value is None else str(_decimal(value, 6))


def report_as_dict(report: Report) -> dict[str, Any]:
    o = report.overall
    figures = {name: getattr(o, name) for name in o.__dataclass_fields__}
    figures.update({
        "digitised_share": _exact(o.digitised_share), "buyers_share": _exact(o.buyers_share),
        "average_check": _exact(o.average_check), "purchases_per_buyer": _exact(o.purchases_per_buyer),
        "actual_discount": _exact(o.actual_discount), "return_rate": _exact(o.return_rate),
        "frequent_share": _exact(o.frequent_share),
    })
    return {
        "period": {"from": report.period.first_day.isoformat(), "to": report.period.last_day.isoformat()},
        "generated_at": report.generated_at.isoformat(),
        "scope": None if report.scope is None else {"kind": report.scope.kind, "value": report.scope.value},
        "money_unit": "kopecks",
        "baseline_discount_percent": str(report.baseline_percent),
        "figures": figures,
        "referred_customers": report.referred_customers, "referred_buyers": report.referred_buyers,
        "referred_revenue": report.referred_revenue, "referral_depth": report.referral_depth,
        "referral_generations": [{"generation": g, "customers": n} for g, n in report.referral_generations],
        "brought_revenue": report.brought_revenue,
        "certificates": {k: {"count": c, "points": p} for k, (c, p) in report.certificates.items()},
        "certificates_issued": report.certificates_issued,
        "ratings": report.ratings, "average_rating": _exact(report.average_rating),
        "saving": _exact(report.saving), "total_benefit": _exact(report.total_benefit),
        "no_card_sales": report.no_card_sales, "no_card_revenue": report.no_card_revenue,
        "no_card_average": _exact(report.no_card_average), "card_uplift": _exact(report.card_uplift),
        "top20_buyers": report.top20_buyers, "top20_revenue": report.top20_revenue,
        "top20_share": _exact(report.top20_share),
        "buyers_for_60": report.buyers_for_60, "buyers_for_60_share": _exact(report.buyers_for_60_share),
        "by_source": [{"source": g.key, **{k: getattr(g.figures, k) for k in g.figures.__dataclass_fields__}}
                      for g in report.by_source],
        "staff": [{"staff_id": s.staff_id, "name": s.name, "active": s.active, "purchases": s.purchases,
                   "sales_no_card": s.sales_no_card, "revenue": s.revenue, "points_paid": s.points_paid,
                   "enrolled": s.enrolled, "ratings": s.ratings, "average_rating": _exact(s.average_rating)}
                  for s in report.staff],
        "funnels": [{"campaign_id": c.campaign_id, "code": c.code, "name": default_text(c.name),
                     "is_source": c.is_source,
                     "opened": c.opened, "registered": c.registered, "certificates": c.certificates,
                     "buyers": c.buyers, "revenue": c.revenue, "cost_points": c.cost_points}
                    for c in report.funnels],
        "promos": [{"code": p.code, "uses": p.uses, "points": p.points} for p in report.promos],
        "monthly": [{"month": m.month.isoformat(), "card_revenue": m.card_revenue, "card_purchases": m.card_purchases,
                     "no_card_revenue": m.no_card_revenue, "no_card_sales": m.no_card_sales,
                     "new_customers": m.new_customers} for m in report.monthly],
        "rfm": None if report.rfm is None else {
            "as_of": report.rfm.as_of.isoformat(), "previous_as_of": report.rfm.previous_as_of.isoformat(),
            "buyers": report.rfm.buyers,
            "segments": [{"segment": s.segment, "customers": s.customers, "revenue": s.revenue}
                         for s in report.rfm.segments],
            "grid": [{"r": r, "f": f, "customers": n} for (r, f), n in sorted(report.rfm.grid.items())],
            "movement": [{"from": b, "to": a, "customers": n} for (b, a), n in sorted(report.rfm.movement.items())],
        },
    }


# --- charts -----------------------------------------------------------------------------
#
# Every chart has a title and axis labels in the reader's language; counts sit on whole-number
# axes (no "2.5 customers"); money axes are roubles with the locale's digit grouping.
# Colours: dark text on white everywhere (the heatmap picks black or white per cell, whichever
# contrasts more with the cell), and bars from Paul Tol's colour-blind-safe "muted" scheme,
# keeping only its colours with at least 3:1 contrast against the white background (WCAG 2.1,
# 1.4.11 "Non-text contrast"). The style is set for each render, so no global rcParams (a
# dark style set elsewhere in the process) can change what the owner gets.

CHART_BACKGROUND = "#ffffff"
CHART_TEXT = "#1a1a1a"
CHART_PALETTE = ("#332288", "#cc6677", "#117733", "#aa4499", "#999933", "#882255")
HEATMAP = "cividis"  # sequential and readable with every common colour-vision deficiency
_CHART_STYLE: dict[str, Any] = {
    "figure.facecolor": CHART_BACKGROUND, "axes.facecolor": CHART_BACKGROUND,
    "savefig.facecolor": CHART_BACKGROUND, "savefig.edgecolor": CHART_BACKGROUND,
    "text.color": CHART_TEXT, "axes.labelcolor": CHART_TEXT, "axes.titlecolor": CHART_TEXT,
    "xtick.color": CHART_TEXT, "ytick.color": CHART_TEXT, "xtick.labelcolor": CHART_TEXT,
    "ytick.labelcolor": CHART_TEXT, "axes.edgecolor": "#595959",
    "legend.facecolor": CHART_BACKGROUND, "legend.edgecolor": "#bfbfbf", "legend.framealpha": 1.0,
    "legend.labelcolor": CHART_TEXT, "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold",
    "axes.axisbelow": True, "grid.color": "#dddddd",
}


def _srgb_channel(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: tuple[float, ...]) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour (channels 0..1; alpha ignored)."""
    r, g, b = (_srgb_channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    """WCAG 2.1 contrast ratio, 1..21 (4.5 is the minimum for normal text)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: tuple[float, ...]) -> str:
    """Black or white, whichever contrasts more with `background` (at least 4.58:1 for any colour)."""
    black, white = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return "#000000" if contrast_ratio(background, black) >= contrast_ratio(background, white) else "#ffffff"


def _figure(width: float, height: float) -> Any:
    """A figure of its own (`matplotlib.figure.Figure`, no pyplot): nothing global to set up,
    close or share between renders, and no GUI backend is ever chosen."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), facecolor=CHART_BACKGROUND)


def _axes(fig: Any) -> Any:
    ax = fig.subplots()
    ax.set_facecolor(CHART_BACKGROUND)
    # Explicit, not only from the style: ticks are created lazily, when the figure is drawn.
    ax.tick_params(colors=CHART_TEXT, labelcolor=CHART_TEXT)
    return ax


def _whole_number_axis(axis: Any, locale: str) -> None:
    """Ticks only at whole numbers, grouped the locale's way ("12 250" / "12,250"): counts of
    customers never show as "2.5", roubles never as "12 250,5"."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _: format_number(round(float(value)), locale)))


def _legend(ax: Any) -> None:
    legend = ax.legend(frameon=True, framealpha=1.0, facecolor=CHART_BACKGROUND, edgecolor="#bfbfbf")
    for text in legend.get_texts():
        text.set_color(CHART_TEXT)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # Agg: a Figure without a canvas renders with it.
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", facecolor=CHART_BACKGROUND)
    return buf.getvalue()


def _month_label(report: Report, index: int, t: Translator) -> str:
    m = report.monthly[index].month
    return f"{m.month:02d}.{m.year % 100:02d}"


def chart_figures(report: Report, t: Translator | None = None) -> list[tuple[str, Any]]:
    """The charts as `matplotlib.figure.Figure`s, (file name, figure): revenue by month (card /
    no card), new customers by source, the RFM grid, the referral depth and the campaign
    funnels. Charts with nothing to show are skipped. Build (and save) them inside
    `chart_style()`."""
    t = t or default_i18n().translator("ru")
    loc = t.locale
    charts: list[tuple[str, Any]] = []
    months = [_month_label(report, i, t) for i in range(len(report.monthly))]
    if report.monthly:
        # Bars at numeric positions with the months as tick labels ("03.26" would otherwise be
        # taken for a number by matplotlib's categorical axis).
        x = list(range(len(months)))
        fig = _figure(9, 4)
        ax = _axes(fig)
        card = [m.card_revenue / 100 for m in report.monthly]
        plain = [m.no_card_revenue / 100 for m in report.monthly]
        ax.bar(x, card, label=t("chart-revenue-card"), color=CHART_PALETTE[0], edgecolor=CHART_BACKGROUND)
        ax.bar(x, plain, bottom=card, label=t("chart-revenue-no-card"), color=CHART_PALETTE[1],
               edgecolor=CHART_BACKGROUND)
        ax.set_xticks(x, months)
        _whole_number_axis(ax.yaxis, loc)
        ax.grid(axis="y")
        ax.set_title(t("chart-revenue-title"))
        ax.set_xlabel(t("chart-month-axis"))
        ax.set_ylabel(t("chart-revenue-axis"))
        _legend(ax)
        ax.tick_params(axis="x", labelrotation=45)
        charts.append(("revenue_by_month.png", fig))

        fig = _figure(9, 4)
        ax = _axes(fig)
        bottom = [0] * len(months)
        for kind, colour in zip(SourceKind, CHART_PALETTE, strict=True):  # a source keeps its colour
            values = [m.new_customers.get(kind.value, 0) for m in report.monthly]
            if any(values):
                ax.bar(x, values, bottom=bottom, label=t(f"report-source-{kind.value}"), color=colour,
                       edgecolor=CHART_BACKGROUND)
                bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        ax.set_xticks(x, months)
        _whole_number_axis(ax.yaxis, loc)
        ax.grid(axis="y")
        ax.set_title(t("chart-new-title"))
        ax.set_xlabel(t("chart-month-axis"))
        ax.set_ylabel(t("chart-new-axis"))
        if any(bottom):
            _legend(ax)
        else:
            ax.set_ylim(0, 1)  # an empty chart still gets the whole-number axis 0..1
        ax.tick_params(axis="x", labelrotation=45)
        charts.append(("new_customers_by_source.png", fig))
    if report.rfm is not None and report.rfm.buyers:
        fig = _figure(5.5, 4.5)
        ax = _axes(fig)
        grid = [[report.rfm.grid.get((r, f), 0) for r in range(1, 6)] for f in range(1, 6)]
        image = ax.imshow(grid, origin="lower", cmap=HEATMAP)
        for f in range(5):
            for r in range(5):
                cell = image.cmap(image.norm(grid[f][r]))
                ax.text(r, f, format_number(grid[f][r], loc), ha="center", va="center", fontsize=9,
                        color=text_colour_on(cell))
        ax.set_xticks(range(5), [str(i) for i in range(1, 6)])
        ax.set_yticks(range(5), [str(i) for i in range(1, 6)])
        ax.set_xlabel(t("chart-rfm-r"))
        ax.set_ylabel(t("chart-rfm-f"))
        ax.set_title(t("chart-rfm-title"))
        bar = fig.colorbar(image, ax=ax)
        bar.set_label(t("chart-rfm-scale"), color=CHART_TEXT)
        bar.ax.tick_params(colors=CHART_TEXT, labelcolor=CHART_TEXT)
        _whole_number_axis(bar.ax.yaxis, loc)
        charts.append(("rfm_grid.png", fig))
    if report.referral_generations:
        fig = _figure(6, 4)
        ax = _axes(fig)
        generations = [g for g, _ in report.referral_generations]
        ax.bar(generations, [n for _, n in report.referral_generations], color=CHART_PALETTE[0])
        ax.set_xticks(generations, [str(g) for g in generations])
        _whole_number_axis(ax.yaxis, loc)
        ax.grid(axis="y")
        ax.set_title(t("chart-referral-title"))
        ax.set_xlabel(t("chart-referral-generation"))
        ax.set_ylabel(t("chart-referral-axis"))
        charts.append(("referral_depth.png", fig))
    funnels = [c for c in report.funnels if c.opened or c.registered or c.certificates or c.buyers][:8]
    if funnels:
        fig = _figure(9, 1.6 + 0.9 * len(funnels))
        ax = _axes(fig)
        stages = [("chart-funnel-opened", "opened"), ("chart-funnel-registered", "registered"),
                  ("chart-funnel-certificates", "certificates"), ("chart-funnel-bought", "buyers")]
        height = 0.8 / len(stages)
        for i, (label, attr) in enumerate(stages):
            ax.barh([j + i * height for j in range(len(funnels))], [getattr(c, attr) for c in funnels],
                    height=height, label=t(label), color=CHART_PALETTE[i])
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(funnels))], [text_in(c.name, t.locale) for c in funnels])
        ax.invert_yaxis()
        _whole_number_axis(ax.xaxis, loc)
        ax.grid(axis="x")
        ax.set_title(t("chart-funnel-title"))
        ax.set_xlabel(t("chart-funnel-axis"))
        ax.set_ylabel(t("chart-funnel-campaign"))
        _legend(ax)
        charts.append(("campaign_funnels.png", fig))
    return charts


def chart_style() -> Any:
    """The charts' own style (a context manager): build and save the figures inside it."""
    import matplotlib

    return matplotlib.rc_context(_CHART_STYLE)  # type: ignore[arg-type]  # keys are rcParams names


def render_charts(report: Report, t: Translator | None = None) -> list[tuple[str, bytes]]:
    """The charts of `chart_figures` as PNG files, (file name, bytes)."""
    with chart_style():
        return [(name, _png(fig)) for name, fig in chart_figures(report, t)]


# --- XLSX -------------------------------------------------------------------------------
#
# Numbers are numbers and dates are dates, so the owner can sum, sort and chart them: a cell
# holds the exact value (roubles as a float of the exact kopecks, a share as a fraction of 1)
# and its number format does the rounding for display. Format codes are the file's own
# language, not the reader's: "#,##0" shows as "12 250" in Russian Excel and "12,250" in
# English Excel, "0.0%" as "12,5%" / "12.5%".

XLSX_COUNT = "#,##0"
XLSX_RUB = "#,##0"  # whole roubles; the header says "₽"
XLSX_RUB_SIGNED = '#,##0 "₽"'  # in the summary, where no header names the unit
XLSX_SHARE = "0.0%"
XLSX_DISCOUNT = "0.00%"  # the actual discount: two decimals, as in the text
XLSX_UPLIFT = "+0%;-0%;0%"
XLSX_RATIO = "0.0"
XLSX_ID = "0"
XLSX_DATE = {"ru": "DD.MM.YYYY", "en": "D MMM YYYY"}
XLSX_MONTH = {"ru": "MM.YYYY", "en": "MMM YYYY"}

Column = tuple[str, str | None]  # (header, number format of its cells; None: as written)


def _sheet(wb: Any, title: str, columns: list[Column], rows: Iterable[Iterable[Any]]) -> Any:
    from openpyxl.styles import Font

    ws = wb.create_sheet(title[:31])
    ws.append([header for header, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for index, (_, fmt) in enumerate(columns, start=1):
        if fmt is None:
            continue
        for cells in ws.iter_rows(min_row=2, min_col=index, max_col=index):
            for cell in cells:
                if cell.value is not None and not isinstance(cell.value, str):
                    cell.number_format = fmt
    for column in ws.columns:
        width = max(_shown_width(c.value) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 80)
    ws.freeze_panes = "A2"
    return ws


def _shown_width(value: Any) -> int:
    """Roughly how many characters a cell shows (its format rounds floats; dates are 10 wide)."""
    if value is None:
        return 0
    if isinstance(value, date):
        return 11
    if isinstance(value, float | int):
        return len(f"{value:,.0f}") + 3
    return len(str(value))


def _rub(kopecks: int | Fraction | None) -> float | None:
    # Spreadsheet cells hold binary floats anyway; the division happens once, here, for display.
    return None if kopecks is None else float(Fraction(kopecks) / 100)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


SummaryRow = tuple[str, Any, str | None, str]  # (figure, value, number format, definition)


def summary_rows(report: Report, t: Translator) -> list[SummaryRow]:
    """The Summary sheet: the period as dates, then every figure of the text summary as a number
    with its format (a compound figure, "12 (40%)", becomes a row per number)."""
    loc = t.locale
    o = report.overall
    percent = fmt_decimal(Fraction(report.baseline_percent), loc, 2).rstrip("0").rstrip(",.")

    def figure(key: str, value: Any, fmt: str | None) -> SummaryRow:
        return (t(key), value, fmt, t(f"{key}.def", percent=percent))

    def part(key: str, value: Any, fmt: str | None, **args: Any) -> SummaryRow:
        return (t(key, **args), value, fmt, "")

    rows: list[SummaryRow] = [
        part("xlsx-period-from", report.period.first_day, XLSX_DATE.get(loc, XLSX_DATE["ru"])),
        part("xlsx-period-to", report.period.last_day, XLSX_DATE.get(loc, XLSX_DATE["ru"])),
    ]
    if report.scope is not None:
        rows.append(part("xlsx-scope", f"{report.scope.kind}: {report.scope.value}", None))
    rows += [
        figure("report-customers", o.customers, XLSX_COUNT),
        figure("report-new-customers", o.new_customers, XLSX_COUNT),
        figure("report-digitised", o.digitised, XLSX_COUNT),
        part("xlsx-share-of", _float(o.digitised_share), XLSX_SHARE, name=t("report-digitised")),
        figure("report-buyers", o.buyers, XLSX_COUNT),
        part("xlsx-share-of", _float(o.buyers_share), XLSX_SHARE, name=t("report-buyers")),
        figure("report-purchases", o.purchases, XLSX_COUNT),
        figure("report-revenue", _rub(o.revenue), XLSX_RUB_SIGNED),
        figure("report-average-check", _rub(o.average_check), XLSX_RUB_SIGNED),
        figure("report-purchases-per-buyer", _float(o.purchases_per_buyer), XLSX_RATIO),
        figure("report-points-paid", _rub(o.points_paid), XLSX_RUB_SIGNED),
        figure("report-actual-discount", _float(o.actual_discount), XLSX_DISCOUNT),
        figure("report-referred", report.referred_customers, XLSX_COUNT),
        part("xlsx-referred-bought", report.referred_buyers, XLSX_COUNT),
        figure("report-referral-depth", report.referral_depth, XLSX_COUNT),
        figure("report-referred-revenue", _rub(report.referred_revenue), XLSX_RUB_SIGNED),
        figure("report-certificate-revenue", _rub(o.certificate_revenue), XLSX_RUB_SIGNED),
        figure("report-certificates", report.certificates_issued, XLSX_COUNT),
        *[part("xlsx-certificates-of-kind", report.certificates.get(kind.value, (0, 0))[0], XLSX_COUNT,
               kind=t(f"report-cert-{kind.value}"))
          for kind in CertificateKind if report.certificates.get(kind.value, (0, 0))[0]],
        figure("report-ratings", report.ratings, XLSX_COUNT),
        part("xlsx-average-rating", _float(report.average_rating), XLSX_RATIO),
        figure("report-saving", _rub(report.saving), XLSX_RUB_SIGNED),
        figure("report-brought-revenue", _rub(report.brought_revenue), XLSX_RUB_SIGNED),
        # A month without purchases has no benefit to measure: say so rather than show 0 ₽.
        figure("report-total-benefit", benefit_text(t, report) if report.benefit_state == "none"
               else _rub(report.total_benefit), XLSX_RUB_SIGNED),
        figure("report-card-vs-no-card", _float(report.card_uplift), XLSX_UPLIFT),
        part("xlsx-average-card", _rub(o.average_check), XLSX_RUB_SIGNED),
        part("xlsx-average-no-card", _rub(report.no_card_average), XLSX_RUB_SIGNED),
        figure("report-no-card-sales", report.no_card_sales, XLSX_COUNT),
        part("xlsx-no-card-total", _rub(report.no_card_revenue), XLSX_RUB_SIGNED),
        figure("report-return-rate", _float(o.return_rate), XLSX_SHARE),
        figure("report-frequent", _float(o.frequent_share), XLSX_SHARE),
        figure("report-top20", _float(report.top20_share), XLSX_SHARE),
        figure("report-buyers-60", _float(report.buyers_for_60_share), XLSX_SHARE),
    ]
    return rows


def _summary_sheet(wb: Any, report: Report, t: Translator) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet(t("xlsx-summary")[:31])
    ws.append([_title(report, t)])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([t("xlsx-figure"), t("xlsx-value"), t("xlsx-definition")])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for name, value, fmt, definition in summary_rows(report, t):
        ws.append([name, value, definition])
        if fmt is not None and value is not None and not isinstance(value, str):
            ws.cell(row=ws.max_row, column=2).number_format = fmt
    ws.column_dimensions["A"].width = min(max(len(str(c.value or "")) for c in ws["A"][1:]) + 2, 70)
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 80
    ws.freeze_panes = "A3"


def render_xlsx(report: Report, t: Translator | None = None) -> bytes:
    """A workbook with every table of the report, in the reader's language: money in roubles,
    shares as percents, months and the period as dates — every one a number, not text."""
    from openpyxl import Workbook

    t = t or default_i18n().translator("ru")
    loc = t.locale
    wb = Workbook()
    wb.remove(wb.active)
    _summary_sheet(wb, report, t)
    _sheet(wb, t("xlsx-sources"), [
        (t("xlsx-name"), None), (t("xlsx-customers"), XLSX_COUNT), (t("xlsx-new"), XLSX_COUNT),
        (t("xlsx-with-card"), XLSX_COUNT), (t("xlsx-buyers"), XLSX_COUNT), (t("xlsx-purchases"), XLSX_COUNT),
        (t("xlsx-revenue"), XLSX_RUB), (t("xlsx-average-check"), XLSX_RUB), (t("xlsx-points-paid"), XLSX_RUB),
    ], [
        [t(f"report-source-{g.key}"), g.figures.customers, g.figures.new_customers, g.figures.digitised,
         g.figures.buyers, g.figures.purchases, _rub(g.figures.revenue), _rub(g.figures.average_check),
         _rub(g.figures.points_paid)] for g in report.by_source
    ])
    _sheet(wb, t("xlsx-staff"), [
        (t("xlsx-name"), None), (t("xlsx-operations"), XLSX_COUNT), (t("xlsx-purchases"), XLSX_COUNT),
        (t("xlsx-no-card"), XLSX_COUNT), (t("xlsx-revenue"), XLSX_RUB), (t("xlsx-average-check"), XLSX_RUB),
        (t("xlsx-points-paid"), XLSX_RUB), (t("xlsx-enrolled"), XLSX_COUNT), (t("xlsx-ratings"), XLSX_COUNT),
        (t("xlsx-average-rating"), XLSX_RATIO),
    ], [[s.name, s.operations, s.purchases, s.sales_no_card, _rub(s.revenue), _rub(s.average_check),
         _rub(s.points_paid), s.enrolled, s.ratings, _float(s.average_rating)] for s in report.staff])
    _sheet(wb, t("xlsx-campaigns"), [
        (t("xlsx-code"), None), (t("xlsx-name"), None), (t("xlsx-opened"), XLSX_COUNT),
        (t("xlsx-registered"), XLSX_COUNT), (t("xlsx-certificates-issued"), XLSX_COUNT),
        (t("xlsx-buyers"), XLSX_COUNT), (t("xlsx-revenue"), XLSX_RUB), (t("xlsx-cost"), XLSX_COUNT),
    ], [[c.code, text_in(c.name, t.locale), c.opened, c.registered, c.certificates, c.buyers, _rub(c.revenue),
         c.cost_points]
        for c in report.funnels])
    kinds = list(SourceKind)
    _sheet(wb, t("xlsx-monthly"), [
        (t("xlsx-month"), XLSX_MONTH.get(loc, XLSX_MONTH["ru"])), (t("xlsx-card-revenue"), XLSX_RUB),
        (t("xlsx-purchases"), XLSX_COUNT), (t("xlsx-no-card-revenue"), XLSX_RUB), (t("xlsx-no-card"), XLSX_COUNT),
        *[(t("xlsx-new-from", source=t(f"report-source-{k.value}")), XLSX_COUNT) for k in kinds],
    ], [[m.month, _rub(m.card_revenue), m.card_purchases, _rub(m.no_card_revenue), m.no_card_sales,
         *[m.new_customers.get(k.value, 0) for k in kinds]] for m in report.monthly])
    if report.rfm is not None:
        ws = _sheet(wb, t("xlsx-rfm"), [
            (t("xlsx-segment"), None), (t("xlsx-customers"), XLSX_COUNT), (t("xlsx-revenue"), XLSX_RUB),
            (t("xlsx-definition"), None),
        ], [[t(f"rfm-{s.segment}"), s.customers, _rub(s.revenue), t(f"rfm-{s.segment}.def")]
            for s in report.rfm.segments])
        ws.append([])
        ws.append([t("xlsx-rfm-grid"), 1, 2, 3, 4, 5])
        for f in range(5, 0, -1):
            ws.append([f, *[report.rfm.grid.get((r, f), 0) for r in range(1, 6)]])
            for cell in ws[ws.max_row][1:]:
                cell.number_format = XLSX_COUNT
        names = [NONE, *SEGMENTS]
        _sheet(wb, t("xlsx-movement"), [
            (f"{t('xlsx-before')} \\ {t('xlsx-after')}", None), *[(t(f"rfm-{n}"), XLSX_COUNT) for n in SEGMENTS],
        ], [[t(f"rfm-{b}"), *[report.rfm.movement.get((b, a), 0) for a in SEGMENTS]] for b in names])
    _sheet(wb, t("xlsx-referrals"), [(t("xlsx-generation"), XLSX_ID), (t("xlsx-customers"), XLSX_COUNT)],
           report.referral_generations)
    _sheet(wb, t("xlsx-certificates"), [(t("xlsx-kind"), None), (t("xlsx-count"), XLSX_COUNT),
                                        (t("xlsx-points"), XLSX_COUNT)],
           [[t(f"report-cert-{k}"), c, p] for k, (c, p) in report.certificates.items()])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- in a worker process (bot/report_pool.py) ----------------------------------------------

def render_attachments(report: Report, locale: str) -> tuple[list[tuple[str, bytes]], bytes]:
    """The charts and the workbook of `/report`, in `locale`: what bot/report_pool.py runs in its
    worker process (the arguments and the result are pickled; a Translator is rebuilt there)."""
    t = default_i18n().translator(locale)
    return render_charts(report, t), render_xlsx(report, t)


def warm_up() -> None:
    """A new worker imports the renderers before its first report (the pool's initializer)."""
    import matplotlib.figure  # noqa: F401
    import openpyxl  # noqa: F401

    default_i18n()
