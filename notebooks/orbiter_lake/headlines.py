"""Headline figures of the gold tables: the few facts a person reads first (closest NEO miss, strongest flare, ...).

Each figure is computed from one gold table's rows (plain Python over collected rows, so it is testable without
Spark); a table that does not exist or has no rows gives no figure. Written by the visual insights notebook as
headlines.json beside the charts; `npm start -- --once` prints them and the local dashboard shows them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Mapping

from pyspark.sql import SparkSession

from . import gold_rows

Row = Mapping[str, object]

# GOES classes from weakest to strongest: the letter is a decade of peak X-ray flux, the magnitude a factor in it.
FLARE_CLASSES = "ABCMX"


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: str
    detail: str
    table: str


def _fmt_int(n: object) -> str:
    return f"{int(n):,}"  # type: ignore[arg-type]


def closest_neo(rows: Iterable[Row]) -> Headline | None:
    ranked = [r for r in rows if r.get("miss_distance_km") is not None]
    if not ranked:
        return None
    r = min(ranked, key=lambda r: (r["miss_distance_km"], str(r.get("neo_id"))))
    lunar = r.get("miss_distance_lunar")
    when = str(r.get("close_approach_at") or "")[:16].replace("T", " ")
    return Headline(
        "closest_neo",
        "Closest NEO miss",
        f"{r['name']}: {_fmt_int(r['miss_distance_km'])} km"
        + (f" ({float(lunar):.2f} lunar distances)" if lunar else ""),
        f"on {when} UTC" + (", potentially hazardous" if r.get("is_potentially_hazardous") else ""),
        "neo_closest_approaches",
    )


def _flare_strength(letter: object, magnitude: object) -> float:
    # X1 = 10 x M1 = 100 x C1 ...: one decade per class letter.
    return 10.0 ** FLARE_CLASSES.index(str(letter)) * float(magnitude or 0)


def strongest_flare(rows: Iterable[Row]) -> Headline | None:
    rows = [r for r in rows if str(r.get("class_letter") or "") in FLARE_CLASSES and r.get("max_magnitude") is not None]
    if not rows:
        return None
    r = max(rows, key=lambda r: _flare_strength(r["class_letter"], r["max_magnitude"]))
    total = sum(int(x.get("flares") or 0) for x in rows)
    return Headline(
        "strongest_flare",
        "Strongest solar flare",
        f"{r['class_letter']}{float(r['max_magnitude']):.1f}",  # type: ignore[arg-type]
        f"in {str(r['month'])[:7]}; {_fmt_int(total)} flares in all",
        "flare_class_monthly",
    )


def strongest_storm(rows: Iterable[Row]) -> Headline | None:
    rows = [r for r in rows if r.get("max_kp_index") is not None]
    if not rows:
        return None
    r = max(rows, key=lambda r: float(r["max_kp_index"]))  # type: ignore[arg-type]
    lag = r.get("lag_hours")
    after = f", {float(lag):.0f} h after a {r['flare_class']} flare" if lag is not None and r.get("flare_class") else ""  # type: ignore[arg-type]
    return Headline(
        "strongest_storm",
        "Strongest geomagnetic storm",
        f"Kp {float(r['max_kp_index']):g}",  # type: ignore[arg-type]
        f"from {str(r['storm_start'])[:16].replace('T', ' ')} UTC{after}",
        "flare_storm_lag",
    )


def top_meteorite_class(rows: Iterable[Row]) -> Headline | None:
    rows = [r for r in rows if r.get("rec_class")]
    if not rows:
        return None
    r = max(rows, key=lambda r: (int(r["landings"]), str(r["rec_class"])))  # type: ignore[arg-type]
    total = sum(int(x["landings"]) for x in rows)  # type: ignore[arg-type]
    return Headline(
        "top_meteorite_class",
        "Most common meteorite class",
        f"{r['rec_class']}: {_fmt_int(r['landings'])} of {_fmt_int(total)} landings",
        f"{100 * int(r['landings']) / total:.0f}% of {_fmt_int(len(rows))} classes",  # type: ignore[arg-type]
        "meteorites_by_class",
    )


def brightest_fireball_year(rows: Iterable[Row]) -> Headline | None:
    rows = [r for r in rows if r.get("year") is not None and r.get("max_radiated_energy_e10j") is not None]
    if not rows:
        return None
    r = max(rows, key=lambda r: float(r["max_radiated_energy_e10j"]))  # type: ignore[arg-type]
    total = sum(int(x.get("fireballs") or 0) for x in rows)
    return Headline(
        "brightest_fireball",
        "Brightest fireball",
        f"{float(r['max_radiated_energy_e10j']) * 1e10:.2e} J radiated in {int(r['year'])}",  # type: ignore[arg-type]
        f"{_fmt_int(total)} fireballs reported {min(int(x['year']) for x in rows)}-{max(int(x['year']) for x in rows)}",  # type: ignore[arg-type]
        "fireball_energy_yearly",
    )


def busiest_event_category(rows: Iterable[Row]) -> Headline | None:
    totals: dict[str, int] = {}
    for r in rows:
        if r.get("category_title"):
            totals[str(r["category_title"])] = totals.get(str(r["category_title"]), 0) + int(r["active_events"])  # type: ignore[arg-type]
    if not totals:
        return None
    cat = max(totals, key=lambda c: (totals[c], c))
    return Headline(
        "busiest_event_category",
        "Most active natural events",
        f"{cat}: {_fmt_int(totals[cat])} event-months",
        f"of {_fmt_int(sum(totals.values()))} across {len(totals)} categories (EONET)",
        "natural_events_monthly",
    )


def imagery_total(rows: Iterable[Row]) -> Headline | None:
    by_source: dict[str, int] = {}
    days = set()
    for r in rows:
        by_source[str(r["source"])] = by_source.get(str(r["source"]), 0) + int(r["items"])  # type: ignore[arg-type]
        days.add(str(r["day"]))
    if not by_source:
        return None
    parts = ", ".join(f"{v:,} {k.upper()}" for k, v in sorted(by_source.items()))
    return Headline(
        "imagery",
        "Earth imagery",
        f"{sum(by_source.values()):,} images and granules",
        f"{parts} over {len(days)} days",
        "imagery_coverage_daily",
    )


FIGURES: list[tuple[str, Callable[[Iterable[Row]], Headline | None]]] = [
    ("neo_closest_approaches", closest_neo),
    ("flare_class_monthly", strongest_flare),
    ("flare_storm_lag", strongest_storm),
    ("meteorites_by_class", top_meteorite_class),
    ("fireball_energy_yearly", brightest_fireball_year),
    ("natural_events_monthly", busiest_event_category),
    ("imagery_coverage_daily", imagery_total),
]


TABLES = [table for table, _ in FIGURES]


def build_headlines(
    spark: SparkSession, lake_root: str, known: Mapping[str, gold_rows.Rows | None] | None = None
) -> list[Headline]:
    """The figures whose gold table exists and has rows; `known` holds tables already read (gold_rows.read_many)."""
    rows = gold_rows.rows_of(spark, lake_root, TABLES, known)
    out = []
    for table, figure in FIGURES:
        h = figure(rows[table]) if rows[table] else None
        if h is not None:
            out.append(h)
    return out


def save_headlines(headlines: list[Headline], out_dir: str, generated_at: str) -> str:
    """Writes headlines.json ({generatedAt, headlines: [...]}) atomically (readers never see half a file)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "headlines.json")
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"generatedAt": generated_at, "headlines": [asdict(h) for h in headlines]}, fh, indent=1, default=str)
    os.replace(tmp, path)
    return path
