"""Charts of the gold tables (matplotlib, headless). Locally the figures are saved as PNG plus an index.html;
on Databricks the notebook display()s them."""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass
from typing import Mapping

import matplotlib

matplotlib.use("Agg")  # headless: no display on a job cluster or CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from . import gold_rows  # noqa: E402


@dataclass
class Chart:
    name: str
    title: str
    figure: object  # matplotlib Figure


ROW_LIMIT = 5000  # a chart of more points than this is unreadable anyway


def _fig(title: str, xlabel: str, ylabel: str, integer_y: bool = True):
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    if integer_y:  # counts: never 0.25 of a flare
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig, ax


def _plain_number(value: float, _pos=None) -> str:
    """A tick label people read: 600, 2,000, 30,000 (not 6x10^2)."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def hazardous_weekly(rows) -> Chart:
    rows = sorted(rows, key=lambda r: r["week_start"])
    fig, ax = _fig("NEO approaches per week", "week starting", "approaches")
    x = [str(r["week_start"]) for r in rows]
    ax.bar(x, [r["approaches"] for r in rows], label="all", color="#9ecae1")
    ax.bar(x, [r["hazardous_approaches"] for r in rows], label="potentially hazardous", color="#de2d26")
    ax.legend()
    fig.autofmt_xdate()
    return Chart("neo_hazardous_weekly", "NEO approaches per week", fig)


def flare_classes(rows) -> Chart:
    months = sorted({str(r["month"]) for r in rows})
    fig, ax = _fig("Solar flares per month by GOES class", "month", "flares")
    bottom = [0] * len(months)
    for letter, color in zip("ABCMX", ["#c7e9c0", "#a1d99b", "#fdae6b", "#f16913", "#a50f15"]):
        counts = {str(r["month"]): r["flares"] for r in rows if r["class_letter"] == letter}
        vals = [counts.get(m, 0) for m in months]
        if any(vals):
            ax.bar(months, vals, bottom=bottom, label=letter, color=color)
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax.legend(title="class")
    return Chart("flare_class_monthly", "Solar flares per month by class", fig)


def flare_storm_lag(rows) -> Chart:
    rows = [r for r in rows if r["lag_hours"] is not None]
    fig, ax = _fig(
        "Lag from strongest preceding flare to geomagnetic storm", "storm max Kp", "lag (hours)", integer_y=False
    )
    ax.scatter([r["max_kp_index"] for r in rows], [r["lag_hours"] for r in rows], color="#6a51a3")
    for r in rows:
        ax.annotate(r["flare_class"] or "", (r["max_kp_index"], r["lag_hours"]), fontsize=8)
    return Chart("flare_storm_lag", "Flare to storm lag", fig)


def natural_events(rows) -> Chart:
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["category_title"]] = totals.get(r["category_title"], 0) + r["active_events"]
    cats = sorted(totals, key=totals.get, reverse=True)
    fig, ax = _fig("Active natural events by category (event-months)", "category", "event-months")
    ax.bar(cats, [totals[c] for c in cats], color="#31a354")
    fig.autofmt_xdate()
    return Chart("natural_events_monthly", "Active natural events by category", fig)


def meteorites_decade(rows) -> Chart:
    rows = sorted((r for r in rows if r["decade"] >= 1800), key=lambda r: r["decade"])
    fig, ax = _fig("Meteorite landings per decade (since 1800)", "decade", "landings")
    bars = ax.bar(
        [r["decade"] for r in rows], [r["landings"] for r in rows], width=8, color="#8c6d31", label="landings"
    )
    ax2 = ax.twinx()
    (line,) = ax2.plot(
        [r["decade"] for r in rows],
        [(r["total_mass_g"] or 0) / 1000 for r in rows],
        color="#252525",
        marker="o",
        label="total mass (kg, right axis)",
    )
    ax2.set_ylabel("total mass (kg)")
    ax2.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.legend(handles=[bars, line], loc="upper left")  # two y axes: say which series reads on which
    return Chart("meteorites_by_decade", "Meteorite landings per decade", fig)


def fireball_energy(rows) -> Chart:
    rows = sorted((r for r in rows if r["year"] is not None), key=lambda r: r["year"])
    fig, ax = _fig("Fireball radiated energy per year", "year", "total radiated energy (1e10 J)", integer_y=False)
    ax.plot(
        [int(r["year"]) for r in rows], [r["total_radiated_energy_e10j"] for r in rows], marker="o", color="#e6550d"
    )
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # years, not 2024.2
    ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda _v, _p: ""))
    return Chart("fireball_energy_yearly", "Fireball radiated energy per year", fig)


def imagery(rows) -> Chart:
    rows = sorted(rows, key=lambda r: (r["day"], r["product"]))
    fig, ax = _fig("Imagery coverage per day", "day", "items")
    for product in sorted({r["product"] for r in rows}):
        pts = [(str(r["day"]), r["items"]) for r in rows if r["product"] == product]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=product)
    ax.legend()
    fig.autofmt_xdate()
    return Chart("imagery_coverage_daily", "Imagery coverage per day", fig)


def run_metrics(rows) -> Chart:
    rows = sorted(rows, key=lambda r: (r["hour_start"], r["job_name"]))
    fig, ax = _fig("Pipeline runs per hour", "hour (UTC)", "runs")
    for job in sorted({r["job_name"] for r in rows}):
        pts = [r for r in rows if r["job_name"] == job]
        ax.plot([str(r["hour_start"]) for r in pts], [r["runs"] for r in pts], marker="o", label=job)
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    return Chart("run_metrics_hourly", "Pipeline runs per hour", fig)


PLOTS = [
    ("neo_hazardous_weekly", hazardous_weekly),
    ("flare_class_monthly", flare_classes),
    ("flare_storm_lag", flare_storm_lag),
    ("natural_events_monthly", natural_events),
    ("meteorites_by_decade", meteorites_decade),
    ("fireball_energy_yearly", fireball_energy),
    ("imagery_coverage_daily", imagery),
    ("run_metrics_hourly", run_metrics),
]


TABLES = [table for table, _ in PLOTS]


def build_charts(
    spark: SparkSession, lake_root: str, known: Mapping[str, gold_rows.Rows | None] | None = None
) -> list[Chart]:
    """One chart per gold table that exists and has rows; `known` holds tables already read (gold_rows.read_many)."""
    rows = gold_rows.rows_of(spark, lake_root, TABLES, known, ROW_LIMIT)
    return [plot(rows[table]) for table, plot in PLOTS if rows[table]]


def save_charts(charts: list[Chart], out_dir: str) -> list[str]:
    """Writes <name>.png for each chart and an index.html embedding them all; returns the written paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths, parts = [], []
    for c in charts:
        path = os.path.join(out_dir, f"{c.name}.png")
        buf = io.BytesIO()
        c.figure.savefig(buf, format="png", bbox_inches="tight")
        with open(path, "wb") as fh:
            fh.write(buf.getvalue())
        paths.append(path)
        b64 = base64.b64encode(buf.getvalue()).decode()
        parts.append(
            f'<h2>{html.escape(c.title)}</h2><img alt="{html.escape(c.title)}" src="data:image/png;base64,{b64}">'
        )
    index = os.path.join(out_dir, "index.html")
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(
            "<!doctype html><html><head><meta charset='utf-8'><title>Orbiter insights</title></head><body>"
            "<h1>Orbiter visual insights</h1>" + "".join(parts) + "</body></html>"
        )
    paths.append(index)
    return paths


def close(charts: list[Chart]) -> None:
    for c in charts:
        plt.close(c.figure)
