"""Gold: insight tables recomputed from silver (overwrite: small aggregates, idempotent by construction)."""

from __future__ import annotations

from typing import Callable

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import delta_io
from .lake import table_path

FLARE_LOOKBACK_HOURS = 96  # CMEs from a flare reach Earth in ~1-4 days


def _silver(spark: SparkSession, lake_root: str, table: str) -> DataFrame | None:
    path = table_path(lake_root, "silver", table)
    return spark.read.format("delta").load(path) if delta_io.exists(spark, path) else None


def month(c: str) -> F.Column:
    return F.trunc(F.col(c), "month").alias("month")


def on_earth(lat: str, lon: str) -> F.Column:
    """A point a map can draw: both coordinates present and in range."""
    return F.col(lat).between(-90, 90) & F.col(lon).between(-180, 180)


# --- neows --------------------------------------------------------------------------------------------------
def neo_hazardous_weekly(neo: DataFrame) -> DataFrame:
    earth = neo.where(F.col("orbiting_body") == "Earth")
    hazardous = F.col("is_potentially_hazardous")
    return (
        earth.groupBy(
            F.to_date(F.date_trunc("week", F.col("close_approach_date").cast("timestamp"))).alias("week_start")
        )
        .agg(
            F.count("*").alias("approaches"),
            F.count(F.when(hazardous, 1)).alias("hazardous_approaches"),
            F.countDistinct(F.when(hazardous, F.col("neo_id"))).alias("hazardous_objects"),
            F.min(F.when(hazardous, F.col("miss_distance_lunar"))).alias("closest_hazardous_lunar"),
        )
        .orderBy("week_start")
    )


def neo_closest_approaches(neo: DataFrame, n: int = 10) -> DataFrame:
    w = Window.orderBy(F.col("miss_distance_km").asc(), F.col("neo_id").asc())
    return (
        neo.where(F.col("orbiting_body") == "Earth")
        .withColumn("rank", F.row_number().over(w))
        .where(F.col("rank") <= n)
        .select(
            "rank",
            "neo_id",
            "name",
            "close_approach_at",
            "miss_distance_km",
            "miss_distance_lunar",
            "relative_velocity_kps",
            "diameter_min_m",
            "diameter_max_m",
            "is_potentially_hazardous",
        )
    )


# --- donki --------------------------------------------------------------------------------------------------
def flare_class_monthly(flares: DataFrame) -> DataFrame:
    return (
        flares.withColumn("t", F.coalesce("peak_time", "begin_time"))
        .groupBy(month("t"), "class_letter")
        .agg(F.count("*").alias("flares"), F.max("class_magnitude").alias("max_magnitude"))
        .orderBy("month", "class_letter")
    )


def flare_storm_lag(flares: DataFrame, storms: DataFrame, lookback_hours: int = FLARE_LOOKBACK_HOURS) -> DataFrame:
    """For each geomagnetic storm, the strongest flare that peaked in the lookback window before it, and the lag
    (storm start - flare peak) in hours. Storms without such a flare keep null flare columns."""
    f = flares.select(
        "flr_id", "class_type", "peak_flux_wm2", F.coalesce("peak_time", "begin_time").alias("flare_peak")
    )
    s = storms.select("gst_id", F.col("start_time").alias("storm_start"), "max_kp_index")
    in_window = (F.col("flare_peak") < F.col("storm_start")) & (
        F.col("flare_peak") >= F.col("storm_start") - F.make_interval(hours=F.lit(lookback_hours))
    )
    joined = s.join(f, in_window, "left")
    w = Window.partitionBy("gst_id").orderBy(F.col("peak_flux_wm2").desc_nulls_last(), F.col("flare_peak").desc())
    return (
        joined.withColumn("_r", F.row_number().over(w))
        .where("_r = 1")
        .select(
            "gst_id",
            "storm_start",
            "max_kp_index",
            "flr_id",
            F.col("class_type").alias("flare_class"),
            "flare_peak",
            ((F.unix_timestamp("storm_start") - F.unix_timestamp("flare_peak")) / 3600.0).alias("lag_hours"),
        )
        .orderBy("storm_start")
    )


# --- eonet --------------------------------------------------------------------------------------------------
def natural_events_monthly(events: DataFrame, geometries: DataFrame) -> DataFrame:
    """Events active in a month (at least one observation that month), per category."""
    cats = events.select(
        "event_id",
        F.explode(F.arrays_zip(F.col("category_ids").alias("id"), F.col("category_titles").alias("title"))).alias("c"),
    ).select("event_id", F.col("c.id").alias("category_id"), F.col("c.title").alias("category_title"))
    obs = geometries.where(F.col("observed_at").isNotNull()).select("event_id", month("observed_at"))
    return (
        cats.join(obs, "event_id")
        .groupBy("category_id", "category_title", "month")
        .agg(F.countDistinct("event_id").alias("active_events"), F.count("*").alias("observations"))
        .orderBy("month", "category_id")
    )


def natural_event_locations(events: DataFrame) -> DataFrame:
    """Each event at its latest reported point (silver keeps it as last_latitude/last_longitude), for a map."""
    return (
        events.where(on_earth("last_latitude", "last_longitude"))
        .select(
            "event_id",
            "title",
            F.try_element_at("category_titles", F.lit(1)).alias("category_title"),
            "is_open",
            "last_observed_at",
            F.col("last_latitude").alias("latitude"),
            F.col("last_longitude").alias("longitude"),
        )
        .orderBy("event_id")
    )


# --- meteorites ---------------------------------------------------------------------------------------------
def _meteorite_aggs() -> list[F.Column]:
    return [
        F.count("*").alias("landings"),
        F.count("mass_g").alias("with_mass"),
        F.sum("mass_g").alias("total_mass_g"),
        F.count(F.when(F.col("fall") == "Fell", 1)).alias("fell"),
        F.count(F.when(F.col("fall") == "Found", 1)).alias("found"),
    ]


def meteorites_by_class(m: DataFrame) -> DataFrame:
    return m.groupBy("rec_class").agg(*_meteorite_aggs()).orderBy(F.col("landings").desc(), "rec_class")


def meteorites_by_decade(m: DataFrame) -> DataFrame:
    return (
        m.where(F.col("year").isNotNull())
        .groupBy(((F.col("year") / 10).cast("int") * 10).alias("decade"))
        .agg(*_meteorite_aggs())
        .orderBy("decade")
    )


def meteorite_landing_sites(m: DataFrame) -> DataFrame:
    """Landings with usable coordinates (silver nulls the 0,0 placeholder and out-of-range ones), for a map."""
    return (
        m.where(on_earth("latitude", "longitude"))
        .select("meteorite_id", "name", "rec_class", "mass_g", "fall", "year", "latitude", "longitude")
        .orderBy("meteorite_id")
    )


# --- fireball -----------------------------------------------------------------------------------------------
def fireball_energy_yearly(f: DataFrame) -> DataFrame:
    return (
        f.groupBy(F.year("peak_at").alias("year"))
        .agg(
            F.count("*").alias("fireballs"),
            F.sum("radiated_energy_e10j").alias("total_radiated_energy_e10j"),
            F.max("radiated_energy_e10j").alias("max_radiated_energy_e10j"),
            F.sum("impact_energy_kt").alias("total_impact_energy_kt"),
        )
        .orderBy("year")
    )


def fireball_impacts(f: DataFrame) -> DataFrame:
    """Fireballs whose peak position was reported, for a map."""
    return (
        f.where(on_earth("latitude", "longitude"))
        .select(
            "peak_at",
            "latitude",
            "longitude",
            "altitude_km",
            "velocity_kms",
            "radiated_energy_e10j",
            "impact_energy_kt",
        )
        .orderBy("peak_at")
    )


# --- imagery (cmr + epic) -----------------------------------------------------------------------------------
def epic_image_centroids(epic: DataFrame) -> DataFrame:
    """The point on Earth under the centre of each EPIC image, for a map."""
    return (
        epic.where(on_earth("centroid_latitude", "centroid_longitude"))
        .select(
            "identifier",
            "taken_at",
            "collection",
            F.col("centroid_latitude").alias("latitude"),
            F.col("centroid_longitude").alias("longitude"),
        )
        .orderBy("taken_at", "identifier")
    )


def imagery_coverage_daily(granules: DataFrame | None, epic: DataFrame | None) -> DataFrame | None:
    parts = []
    if granules is not None:
        minutes = (F.unix_timestamp("end_time") - F.unix_timestamp("begin_time")) / 60.0
        parts.append(
            granules.groupBy(
                F.to_date("begin_time").alias("day"),
                F.lit("cmr").alias("source"),
                F.col("collection_short_name").alias("product"),
            ).agg(
                F.count("*").alias("items"),
                F.sum(minutes).alias("covered_minutes"),
                F.avg("cloud_cover_pct").alias("mean_cloud_cover_pct"),
                F.min("begin_time").alias("first_time"),
                F.max("end_time").alias("last_time"),
            )
        )
    if epic is not None:
        parts.append(
            epic.groupBy(
                F.to_date("taken_at").alias("day"),
                F.lit("epic").alias("source"),
                F.concat(F.lit("EPIC "), F.col("collection")).alias("product"),
            ).agg(
                F.count("*").alias("items"),
                F.lit(None).cast("double").alias("covered_minutes"),
                F.lit(None).cast("double").alias("mean_cloud_cover_pct"),
                F.min("taken_at").alias("first_time"),
                F.max("taken_at").alias("last_time"),
            )
        )
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out.orderBy("day", "source", "product")


# --- apod ---------------------------------------------------------------------------------------------------
def apod_media_monthly(a: DataFrame) -> DataFrame:
    return a.groupBy(month("apod_date"), "media_type").agg(F.count("*").alias("entries")).orderBy("month", "media_type")


# --- runner -------------------------------------------------------------------------------------------------
def _plans(spark: SparkSession, lake_root: str) -> dict[str, Callable[[], dict[str, DataFrame | None]]]:
    s = lambda t: _silver(spark, lake_root, t)  # noqa: E731

    def neows():
        neo = s("neo_close_approaches")
        return (
            {}
            if neo is None
            else {
                "neo_hazardous_weekly": neo_hazardous_weekly(neo),
                "neo_closest_approaches": neo_closest_approaches(neo),
            }
        )

    def donki():
        flares, storms = s("solar_flares"), s("geomagnetic_storms")
        out = {}
        if flares is not None:
            out["flare_class_monthly"] = flare_class_monthly(flares)
            if storms is not None:
                out["flare_storm_lag"] = flare_storm_lag(flares, storms)
        return out

    def eonet():
        ev, geo = s("eonet_events"), s("eonet_geometries")
        out = {} if ev is None else {"natural_event_locations": natural_event_locations(ev)}
        if ev is not None and geo is not None:
            out["natural_events_monthly"] = natural_events_monthly(ev, geo)
        return out

    def meteorites():
        m = s("meteorite_landings")
        return (
            {}
            if m is None
            else {
                "meteorites_by_class": meteorites_by_class(m),
                "meteorites_by_decade": meteorites_by_decade(m),
                "meteorite_landing_sites": meteorite_landing_sites(m),
            }
        )

    def fireball():
        f = s("fireballs")
        return (
            {}
            if f is None
            else {"fireball_energy_yearly": fireball_energy_yearly(f), "fireball_impacts": fireball_impacts(f)}
        )

    def imagery():
        return {"imagery_coverage_daily": imagery_coverage_daily(s("cmr_granules"), s("epic_images"))}

    def epic():
        images = s("epic_images")
        centroids = {} if images is None else {"epic_image_centroids": epic_image_centroids(images)}
        return {**imagery(), **centroids}

    def apod():
        a = s("apod_entries")
        return {} if a is None else {"apod_media_monthly": apod_media_monthly(a)}

    return {
        "neows": neows,
        "donki": donki,
        "eonet": eonet,
        "meteorites": meteorites,
        "fireball": fireball,
        "cmr": imagery,
        "epic": epic,
        "apod": apod,
    }


GOLD_TABLES = {
    "neows": ["neo_hazardous_weekly", "neo_closest_approaches"],
    "donki": ["flare_class_monthly", "flare_storm_lag"],
    "eonet": ["natural_events_monthly", "natural_event_locations"],
    "meteorites": ["meteorites_by_class", "meteorites_by_decade", "meteorite_landing_sites"],
    "fireball": ["fireball_energy_yearly", "fireball_impacts"],
    "cmr": ["imagery_coverage_daily"],
    "epic": ["imagery_coverage_daily", "epic_image_centroids"],
    "apod": ["apod_media_monthly"],
}


def run_gold(spark: SparkSession, lake_root: str, source: str) -> dict[str, int]:
    """Recomputes the source's gold tables from silver; returns row counts per table written."""
    written = {}
    for table, df in _plans(spark, lake_root)[source]().items():
        if df is None:
            continue
        path = table_path(lake_root, "gold", table)
        written[table] = delta_io.overwrite(df, path)
    return written
