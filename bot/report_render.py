"""Showing a report (models/reports.py): a text summary, PNG charts, an XLSX workbook, JSON.

Figures are exact fractions in the report and are rounded here, only for display:
shares as whole percents (one decimal below 10%), the actual discount with two decimals,
ratios with one decimal, averages and benefits to whole roubles (half up).
Every label comes from `bot/locales/<locale>/reports.ftl`; a figure's definition is the
`.def` attribute of its message.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from bot.i18n import Translator, default_i18n, format_number
from models.program import default_text, text_in
from models.reports import Report
from models.rfm import NONE, SEGMENTS
from models.tables import CertificateKind, SourceKind

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


def figure_rows(report: Report, t: Translator) -> list[tuple[str, str, str]]:
    """(name, formatted value, definition) for every figure: the text, the XLSX and JSON use it."""
    loc = t.locale
    o = report.overall

    def share(value: int, fraction: Fraction | None) -> str:
        return t("report-share", value=t.number(value), share=fmt_percent(fraction, loc))

    cert_parts = ", ".join(
        f"{t(f'report-cert-{kind.value}')} {t.number(report.certificates.get(kind.value, (0, 0))[0])}"
        for kind in CertificateKind if report.certificates.get(kind.value, (0, 0))[0]
    )
    certificates = t.number(report.certificates_issued) + (f" ({cert_parts})" if cert_parts else "")
    rows: list[tuple[str, str]] = [
        ("report-customers", t.number(o.customers)),
        ("report-new-customers", t.number(o.new_customers)),
        ("report-digitised", share(o.digitised, o.digitised_share)),
        ("report-buyers", share(o.buyers, o.buyers_share)),
        ("report-purchases", t.number(o.purchases)),
        ("report-revenue", fmt_money(t, o.revenue, exact=True)),
        ("report-average-check", fmt_money(t, o.average_check)),
        ("report-purchases-per-buyer", fmt_decimal(o.purchases_per_buyer, loc, 1)),
        ("report-points-paid", fmt_money(t, o.points_paid)),  # points are whole: no kopecks shown
        ("report-actual-discount", fmt_percent(o.actual_discount, loc, 2)),
        ("report-referred", t("report-of-which", value=t.number(report.referred_customers),
                              bought=t.number(report.referred_buyers))),
        ("report-referral-depth", t("report-generations", n=report.referral_depth)),
        ("report-referred-revenue", fmt_money(t, report.referred_revenue, exact=True)),
        ("report-certificate-revenue", fmt_money(t, o.certificate_revenue, exact=True)),
        ("report-certificates", certificates),
        ("report-ratings", t("report-rating-value", count=t.number(report.ratings),
                             average=fmt_decimal(report.average_rating, loc, 1))),
        ("report-saving", fmt_money(t, report.saving) if report.saving >= 0
         else t("report-saving-negative", amount=fmt_money(t, -report.saving))),
        ("report-brought-revenue", fmt_money(t, report.brought_revenue, exact=True)),
        ("report-total-benefit", benefit_text(t, report)),
        ("report-card-vs-no-card", t("report-card-vs-no-card-value", card=fmt_money(t, o.average_check),
                                     plain=fmt_money(t, report.no_card_average),
                                     uplift=fmt_percent(report.card_uplift, loc, 0, signed=True))),
        ("report-no-card-sales", t("report-share", value=t.number(report.no_card_sales),
                                   share=fmt_money(t, report.no_card_revenue, exact=True))),
        ("report-return-rate", fmt_percent(o.return_rate, loc)),
        ("report-frequent", fmt_percent(o.frequent_share, loc)),
        ("report-top20", t("report-concentration-value", share=fmt_percent(report.top20_share, loc))),
        ("report-buyers-60", fmt_percent(report.buyers_for_60_share, loc)),
    ]
    percent = fmt_decimal(Fraction(report.baseline_percent), loc, 2).rstrip("0").rstrip(",.")
    return [(t(key), value, t(f"{key}.def", percent=percent)) for key, value in rows]


def _title(report: Report, t: Translator) -> str:
    args = {"from": t.day(report.period.first_day), "to": t.day(report.period.last_day)}
    if report.scope is not None:
        return t("report-title-scope", scope=f"{report.scope.kind}: {report.scope.value}", **args)
    return t("report-title", **args)


def render_text(report: Report, t: Translator, *, definitions: bool = True, tables: bool = True) -> str:
    """A compact summary: every figure (with its definition), then the short tables."""
    lines = [_title(report, t), ""]
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

def _figure(width: float, height: float) -> Any:
    """A figure of its own (`matplotlib.figure.Figure`, no pyplot): nothing global to set up,
    close or share between renders, and no GUI backend is ever chosen."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")  # Agg: a Figure without a canvas renders with it
    return buf.getvalue()


def _month_label(report: Report, index: int, t: Translator) -> str:
    m = report.monthly[index].month
    return f"{m.month:02d}.{m.year % 100:02d}"


def render_charts(report: Report, t: Translator | None = None) -> list[tuple[str, bytes]]:
    """PNG charts: revenue by month (card / no card), new customers by source, the RFM grid,
    the referral depth and the campaign funnels. Charts with nothing to show are skipped."""
    t = t or default_i18n().translator("ru")
    from matplotlib.ticker import FuncFormatter

    charts: list[tuple[str, bytes]] = []
    months = [_month_label(report, i, t) for i in range(len(report.monthly))]
    if report.monthly:
        # Bars at numeric positions with the months as tick labels ("03.26" would otherwise be
        # taken for a number by matplotlib's categorical axis).
        x = list(range(len(months)))
        fig = _figure(9, 4)
        ax = fig.subplots()
        card = [m.card_revenue / 100 for m in report.monthly]
        plain = [m.no_card_revenue / 100 for m in report.monthly]
        ax.bar(x, card, label=t("chart-revenue-card"), color="#2a9d8f")
        ax.bar(x, plain, bottom=card, label=t("chart-revenue-no-card"), color="#e9c46a")
        ax.set_xticks(x, months)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_number(int(value), t.locale)))
        ax.set_title(t("chart-revenue-title"))
        ax.set_ylabel(t("chart-revenue-axis"))
        ax.legend()
        ax.tick_params(axis="x", labelrotation=45)
        charts.append(("revenue_by_month.png", _png(fig)))

        fig = _figure(9, 4)
        ax = fig.subplots()
        bottom = [0] * len(months)
        for kind in SourceKind:
            values = [m.new_customers.get(kind.value, 0) for m in report.monthly]
            if any(values):
                ax.bar(x, values, bottom=bottom, label=t(f"report-source-{kind.value}"))
                bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        ax.set_xticks(x, months)
        ax.set_title(t("chart-new-title"))
        ax.set_ylabel(t("chart-new-axis"))
        if any(bottom):
            ax.legend()
        ax.tick_params(axis="x", labelrotation=45)
        charts.append(("new_customers_by_source.png", _png(fig)))
    if report.rfm is not None and report.rfm.buyers:
        fig = _figure(5.5, 4.5)
        ax = fig.subplots()
        grid = [[report.rfm.grid.get((r, f), 0) for r in range(1, 6)] for f in range(1, 6)]
        image = ax.imshow(grid, origin="lower", cmap="YlGnBu")
        for f in range(5):
            for r in range(5):
                ax.text(r, f, str(grid[f][r]), ha="center", va="center", fontsize=9)
        ax.set_xticks(range(5), [str(i) for i in range(1, 6)])
        ax.set_yticks(range(5), [str(i) for i in range(1, 6)])
        ax.set_xlabel(t("chart-rfm-r"))
        ax.set_ylabel(t("chart-rfm-f"))
        ax.set_title(t("chart-rfm-title"))
        fig.colorbar(image, ax=ax)
        charts.append(("rfm_grid.png", _png(fig)))
    if report.referral_generations:
        fig = _figure(6, 4)
        ax = fig.subplots()
        generations = [g for g, _ in report.referral_generations]
        ax.bar(generations, [n for _, n in report.referral_generations], color="#264653")
        ax.set_xticks(generations, [str(g) for g in generations])
        ax.set_title(t("chart-referral-title"))
        ax.set_xlabel(t("chart-referral-generation"))
        ax.set_ylabel(t("chart-referral-axis"))
        charts.append(("referral_depth.png", _png(fig)))
    funnels = [c for c in report.funnels if c.opened or c.registered or c.certificates or c.buyers][:8]
    if funnels:
        fig = _figure(9, 1.2 + 0.9 * len(funnels))
        ax = fig.subplots()
        stages = [("chart-funnel-opened", "opened"), ("chart-funnel-registered", "registered"),
                  ("chart-funnel-certificates", "certificates"), ("chart-funnel-bought", "buyers")]
        height = 0.8 / len(stages)
        for i, (label, attr) in enumerate(stages):
            ax.barh([j + i * height for j in range(len(funnels))], [getattr(c, attr) for c in funnels],
                    height=height, label=t(label))
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(funnels))], [text_in(c.name, t.locale) for c in funnels])
        ax.invert_yaxis()
        ax.set_title(t("chart-funnel-title"))
        ax.legend()
        charts.append(("campaign_funnels.png", _png(fig)))
    return charts


# --- XLSX -------------------------------------------------------------------------------

_MONEY = '#,##0.00'
_PCT = '0.00%'


def _sheet(wb: Any, title: str, header: Iterable[str], rows: Iterable[Iterable[Any]],
           formats: dict[int, str] | None = None) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet(title[:31])
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for col, fmt in (formats or {}).items():
        for cells in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            for cell in cells:
                cell.number_format = fmt
    for column in ws.columns:
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 80)
    ws.freeze_panes = "A2"


def _rub(kopecks: int | Fraction | None) -> float | None:
    # Spreadsheet cells hold binary floats anyway; the division happens once, here, for display.
    return None if kopecks is None else float(Fraction(kopecks) / 100)


def _pct(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def render_xlsx(report: Report, t: Translator | None = None) -> bytes:
    """A workbook with every table of the report (money in roubles, shares as percents)."""
    from openpyxl import Workbook

    t = t or default_i18n().translator("ru")
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, t("xlsx-summary"), [t("xlsx-figure"), t("xlsx-value"), t("xlsx-definition")],
           [[_title(report, t), "", ""], *figure_rows(report, t)])
    src_header = [t("xlsx-name"), t("xlsx-customers"), t("xlsx-new"), t("xlsx-digitised"), t("xlsx-buyers"),
                  t("xlsx-purchases"), t("xlsx-revenue"), t("xlsx-average-check"), t("xlsx-points-paid")]
    _sheet(wb, t("xlsx-sources"), src_header, [
        [t(f"report-source-{g.key}"), g.figures.customers, g.figures.new_customers, g.figures.digitised,
         g.figures.buyers, g.figures.purchases, _rub(g.figures.revenue), _rub(g.figures.average_check),
         _rub(g.figures.points_paid)] for g in report.by_source
    ], {7: _MONEY, 8: _MONEY, 9: _MONEY})
    _sheet(wb, t("xlsx-staff"), [
        t("xlsx-name"), t("xlsx-operations"), t("xlsx-purchases"), t("xlsx-no-card"), t("xlsx-revenue"),
        t("xlsx-average-check"), t("xlsx-points-paid"), t("xlsx-enrolled"), t("xlsx-ratings"),
        t("xlsx-average-rating"),
    ], [[s.name, s.operations, s.purchases, s.sales_no_card, _rub(s.revenue), _rub(s.average_check),
         _rub(s.points_paid), s.enrolled, s.ratings, _pct(s.average_rating)] for s in report.staff],
        {5: _MONEY, 6: _MONEY, 7: _MONEY, 10: "0.0"})
    _sheet(wb, t("xlsx-campaigns"), [
        t("xlsx-code"), t("xlsx-name"), t("xlsx-opened"), t("xlsx-registered"), t("xlsx-certificates-issued"),
        t("xlsx-buyers"), t("xlsx-revenue"), t("xlsx-cost"),
    ], [[c.code, text_in(c.name, t.locale), c.opened, c.registered, c.certificates, c.buyers, _rub(c.revenue),
         c.cost_points]
        for c in report.funnels], {7: _MONEY})
    kinds = list(SourceKind)
    _sheet(wb, t("xlsx-monthly"), [
        t("xlsx-month"), t("chart-revenue-card"), t("xlsx-purchases"), t("xlsx-no-card-revenue"), t("xlsx-no-card"),
        *[t(f"report-source-{k.value}") for k in kinds],
    ], [[m.month, _rub(m.card_revenue), m.card_purchases, _rub(m.no_card_revenue), m.no_card_sales,
         *[m.new_customers.get(k.value, 0) for k in kinds]] for m in report.monthly],
        {1: "yyyy-mm", 2: _MONEY, 4: _MONEY})
    if report.rfm is not None:
        _sheet(wb, t("xlsx-rfm"), [t("xlsx-segment"), t("xlsx-customers"), t("xlsx-revenue"), t("xlsx-definition")],
               [[t(f"rfm-{s.segment}"), s.customers, _rub(s.revenue), t(f"rfm-{s.segment}.def")]
                for s in report.rfm.segments], {3: _MONEY})
        ws = wb[t("xlsx-rfm")[:31]]
        ws.append([])
        ws.append(["F \\ R", 1, 2, 3, 4, 5])
        for f in range(5, 0, -1):
            ws.append([f, *[report.rfm.grid.get((r, f), 0) for r in range(1, 6)]])
        names = [NONE, *SEGMENTS]
        _sheet(wb, t("xlsx-movement"), [f"{t('xlsx-before')} \\ {t('xlsx-after')}",
                                        *[t(f"rfm-{n}") for n in SEGMENTS]],
               [[t(f"rfm-{b}"), *[report.rfm.movement.get((b, a), 0) for a in SEGMENTS]] for b in names])
    _sheet(wb, t("xlsx-referrals"), [t("xlsx-generation"), t("xlsx-customers")], report.referral_generations)
    _sheet(wb, t("xlsx-certificates"), [t("xlsx-kind"), t("xlsx-count"), t("xlsx-points")],
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
