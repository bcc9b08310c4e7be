"""Silver: typed, deduplicated entity tables upserted (MERGE) on natural keys from bronze records.

Each entity builder turns bronze rows into typed rows plus `_reasons` (data-quality checks written as code).
Rows with no reasons are deduplicated (latest blob wins: docs/contracts.md "silver must keep the latest by ingestion
time") and merged; rows with reasons go to the quarantine Delta table with the reason: never silently dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import delta_io
from .lake import ManifestFile, resolve_manifest, table_path

QUARANTINE_TABLE = "records"  # quarantine/records/ (beside the functions' quarantined blobs, no name clash)
QUARANTINE_KEYS = ["entity", "_blob_name", "_record_index", "item_key", "reason"]
LINEAGE = ["_blob_name", "_record_index", "_sha256", "_landed_at", "_ingested_at", "_orbiter_run_id", "_rescued_data"]


# --- column helpers -----------------------------------------------------------------------------------------
def ts(c: Column | str) -> Column:
    """Timestamps as NASA writes them: ISO with or without seconds ("2024-05-01T14:17Z"), "yyyy-MM-dd HH:mm:ss"."""
    c = F.col(c) if isinstance(c, str) else c
    with_seconds = F.regexp_replace(c, r"T(\d{2}:\d{2})(Z|[+-]\d{2}:?\d{2})?$", "T$1:00$2")
    return with_seconds.try_cast("timestamp")


def num(c: Column | str) -> Column:
    c = F.col(c) if isinstance(c, str) else c
    return F.trim(c).try_cast("double")


def reasons(*checks: tuple[Column, str]) -> Column:
    """array<string> of the messages whose condition is true (null conditions count as false)."""
    msgs = [F.when(F.coalesce(cond, F.lit(False)), F.lit(msg)) for cond, msg in checks]
    return F.filter(F.array(*msgs), lambda m: m.isNotNull())


def blank(c: Column) -> Column:
    return c.isNull() | (F.trim(c) == "")


def not_numeric(c: Column) -> Column:
    return c.isNotNull() & (F.trim(c) != "") & num(c).isNull()


def version_col() -> Column:
    """Total order of record versions: blob landing time, then blob name, then position."""
    return F.concat_ws(
        "|",
        F.date_format("_landed_at", "yyyyMMddHHmmssSSS"),
        F.col("_blob_name"),
        F.lpad(F.col("_record_index").cast("string"), 9, "0"),
    )


DONKI_LINKS = "array<struct<activityID:string>>"
DONKI_INSTRUMENTS = "array<struct<displayName:string>>"


# --- entities -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entity:
    name: str  # silver table name
    source: str
    bronze_table: str
    keys: tuple[str, ...]
    build: Callable[[DataFrame], DataFrame]  # bronze rows -> typed rows + LINEAGE + _reasons (+ item_key)
    primary: bool = True  # quarantines unparseable raw files of its bronze table
    version: Callable[[], Column] = version_col


def neo_close_approaches(b: DataFrame) -> DataFrame:
    size = "struct<estimated_diameter_min:string, estimated_diameter_max:string>"
    schema = (
        "struct<id:string, neo_reference_id:string, name:string, nasa_jpl_url:string, absolute_magnitude_h:string,"
        f" estimated_diameter: struct<kilometers:{size}, meters:{size}>,"
        " is_potentially_hazardous_asteroid:boolean, is_sentry_object:boolean,"
        " close_approach_data: array<struct<close_approach_date:string, close_approach_date_full:string,"
        " epoch_date_close_approach:string, orbiting_body:string,"
        " relative_velocity: struct<kilometers_per_second:string, kilometers_per_hour:string>,"
        " miss_distance: struct<astronomical:string, lunar:string, kilometers:string>>>>"
    )
    n = b.select("*", F.from_json("payload", schema).alias("n"))
    n = n.select("*", F.explode_outer(F.col("n.close_approach_data")).alias("ca"))
    epoch = F.col("ca.epoch_date_close_approach").try_cast("long")
    neo_id = F.coalesce(F.col("n.id"), F.col("n.neo_reference_id"))  # 2016 captures have no `id`
    return n.select(
        neo_id.alias("neo_id"),
        F.col("n.name").alias("name"),
        num("n.absolute_magnitude_h").alias("absolute_magnitude_h"),
        num("n.estimated_diameter.meters.estimated_diameter_min").alias("diameter_min_m"),
        num("n.estimated_diameter.meters.estimated_diameter_max").alias("diameter_max_m"),
        F.col("n.is_potentially_hazardous_asteroid").alias("is_potentially_hazardous"),
        F.col("n.is_sentry_object").alias("is_sentry_object"),
        F.col("ca.close_approach_date").try_cast("date").alias("close_approach_date"),
        F.timestamp_millis(epoch).alias("close_approach_at"),
        epoch.alias("close_approach_epoch_ms"),
        F.col("ca.orbiting_body").alias("orbiting_body"),
        num("ca.miss_distance.kilometers").alias("miss_distance_km"),
        num("ca.miss_distance.lunar").alias("miss_distance_lunar"),
        num("ca.miss_distance.astronomical").alias("miss_distance_au"),
        num("ca.relative_velocity.kilometers_per_second").alias("relative_velocity_kps"),
        num("ca.relative_velocity.kilometers_per_hour").alias("relative_velocity_kph"),
        F.col("n.nasa_jpl_url").alias("nasa_jpl_url"),
        F.col("_record_group").try_cast("date").alias("feed_date"),
        *LINEAGE,
        F.coalesce(F.col("ca.epoch_date_close_approach"), F.lit("")).alias("item_key"),
        reasons(
            (F.col("n").isNull(), "record is not a NEO object"),
            (F.col("n").isNotNull() & blank(neo_id), "missing id"),
            (F.col("n").isNotNull() & F.col("ca").isNull(), "no close_approach_data"),
            (F.col("ca").isNotNull() & epoch.isNull(), "missing or non-numeric epoch_date_close_approach"),
            (
                F.col("ca").isNotNull() & num("ca.miss_distance.kilometers").isNull(),
                "miss_distance.kilometers not numeric",
            ),
            (
                F.col("ca").isNotNull() & not_numeric(F.col("ca.relative_velocity.kilometers_per_second")),
                "relative_velocity.kilometers_per_second not numeric",
            ),
        ).alias("_reasons"),
    )


FLARE_BASE_FLUX = {"A": 1e-8, "B": 1e-7, "C": 1e-6, "M": 1e-5, "X": 1e-4}  # W/m^2 of a magnitude-1 flare


def flare_base(letter: Column) -> Column:
    expr = F.lit(None).cast("double")
    for k, v in FLARE_BASE_FLUX.items():
        expr = F.when(letter == k, F.lit(v)).otherwise(expr)
    return expr


def solar_flares(b: DataFrame) -> DataFrame:
    schema = (
        f"struct<flrID:string, instruments:{DONKI_INSTRUMENTS}, beginTime:string, peakTime:string, endTime:string,"
        " classType:string, sourceLocation:string, activeRegionNum:string, note:string, submissionTime:string,"
        f" versionId:string, link:string, linkedEvents:{DONKI_LINKS}>"
    )
    f = b.select("*", F.from_json("payload", schema).alias("f"))
    cls = F.upper(F.trim(F.col("f.classType")))
    letter = F.regexp_extract(cls, r"^([ABCMX])(\d+(?:\.\d+)?)$", 1)
    magnitude = F.regexp_extract(cls, r"^([ABCMX])(\d+(?:\.\d+)?)$", 2).try_cast("double")
    return f.select(
        F.col("f.flrID").alias("flr_id"),
        cls.alias("class_type"),
        F.nullif(letter, F.lit("")).alias("class_letter"),
        magnitude.alias("class_magnitude"),
        (flare_base(letter) * magnitude).alias("peak_flux_wm2"),
        ts("f.beginTime").alias("begin_time"),
        ts("f.peakTime").alias("peak_time"),
        ts("f.endTime").alias("end_time"),
        F.nullif(F.col("f.sourceLocation"), F.lit("")).alias("source_location"),
        F.col("f.activeRegionNum").try_cast("int").alias("active_region_num"),
        F.transform("f.instruments", lambda i: i["displayName"]).alias("instruments"),
        F.coalesce(F.transform("f.linkedEvents", lambda e: e["activityID"]), F.array().cast("array<string>")).alias(
            "linked_event_ids"
        ),
        F.col("f.note").alias("note"),
        ts("f.submissionTime").alias("submission_time"),
        F.col("f.versionId").try_cast("int").alias("version_id"),
        F.col("f.link").alias("link"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("f").isNull(), "record is not a flare object"),
            (F.col("f").isNotNull() & blank(F.col("f.flrID")), "missing flrID"),
            (F.col("f").isNotNull() & ts("f.beginTime").isNull(), "beginTime missing or not a timestamp"),
            (F.col("f").isNotNull() & magnitude.isNull(), "classType is not a GOES class (A/B/C/M/X + magnitude)"),
        ).alias("_reasons"),
    )


CME_SCHEMA = (
    f"struct<activityID:string, catalog:string, startTime:string, instruments:{DONKI_INSTRUMENTS},"
    " sourceLocation:string, activeRegionNum:string, note:string, submissionTime:string, versionId:string,"
    f" link:string, linkedEvents:{DONKI_LINKS}, cmeAnalyses: array<struct<isMostAccurate:boolean, time21_5:string,"
    " latitude:string, longitude:string, halfAngle:string, speed:string, type:string, featureCode:string,"
    " imageType:string, measurementTechnique:string, levelOfData:string, submissionTime:string, link:string,"
    " enlilList:string>>>"
)


def cmes(b: DataFrame) -> DataFrame:
    c = b.select("*", F.from_json("payload", CME_SCHEMA).alias("c"))
    analyses = F.coalesce(F.col("c.cmeAnalyses"), F.array())
    best = F.try_element_at(F.filter(analyses, lambda a: F.coalesce(a["isMostAccurate"], F.lit(False))), F.lit(1))
    return c.select(
        F.col("c.activityID").alias("activity_id"),
        F.col("c.catalog").alias("catalog"),
        ts("c.startTime").alias("start_time"),
        F.nullif(F.col("c.sourceLocation"), F.lit("")).alias("source_location"),
        F.col("c.activeRegionNum").try_cast("int").alias("active_region_num"),
        F.transform("c.instruments", lambda i: i["displayName"]).alias("instruments"),
        F.coalesce(F.transform("c.linkedEvents", lambda e: e["activityID"]), F.array().cast("array<string>")).alias(
            "linked_event_ids"
        ),
        F.size(analyses).alias("analysis_count"),
        num(best["speed"]).alias("most_accurate_speed_kms"),
        num(best["halfAngle"]).alias("most_accurate_half_angle_deg"),
        best["type"].alias("most_accurate_type"),
        F.col("c.note").alias("note"),
        ts("c.submissionTime").alias("submission_time"),
        F.col("c.versionId").try_cast("int").alias("version_id"),
        F.col("c.link").alias("link"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("c").isNull(), "record is not a CME object"),
            (F.col("c").isNotNull() & blank(F.col("c.activityID")), "missing activityID"),
            (F.col("c").isNotNull() & ts("c.startTime").isNull(), "startTime missing or not a timestamp"),
        ).alias("_reasons"),
    )


def cme_analyses(b: DataFrame) -> DataFrame:
    c = b.select("*", F.from_json("payload", CME_SCHEMA).alias("c")).where(
        F.col("c").isNotNull() & ~blank(F.col("c.activityID"))
    )
    a = c.select("*", F.posexplode(F.coalesce(F.col("c.cmeAnalyses"), F.array())).alias("i", "a"))
    analysis_id = F.coalesce(F.col("a.link"), F.concat_ws("#", F.col("c.activityID"), F.col("i").cast("string")))
    return a.select(
        analysis_id.alias("analysis_id"),
        F.col("c.activityID").alias("activity_id"),
        F.col("a.isMostAccurate").alias("is_most_accurate"),
        ts("a.time21_5").alias("time21_5"),
        num("a.latitude").alias("latitude"),
        num("a.longitude").alias("longitude"),
        num("a.halfAngle").alias("half_angle_deg"),
        num("a.speed").alias("speed_kms"),
        F.col("a.type").alias("type"),
        F.col("a.featureCode").alias("feature_code"),
        F.col("a.imageType").alias("image_type"),
        F.col("a.measurementTechnique").alias("measurement_technique"),
        F.col("a.levelOfData").try_cast("int").alias("level_of_data"),
        ts("a.submissionTime").alias("submission_time"),
        F.col("a.enlilList").isNotNull().alias("has_enlil_simulation"),
        *LINEAGE,
        F.col("i").cast("string").alias("item_key"),
        reasons(
            (ts("a.time21_5").isNull(), "time21_5 missing or not a timestamp"),
            (num("a.speed").isNull(), "speed missing or not numeric"),
        ).alias("_reasons"),
    )


GST_SCHEMA = (
    "struct<gstID:string, startTime:string, allKpIndex: array<struct<observedTime:string, kpIndex:string, source:string>>,"
    f" link:string, linkedEvents:{DONKI_LINKS}, submissionTime:string, versionId:string>"
)


def geomagnetic_storms(b: DataFrame) -> DataFrame:
    g = b.select("*", F.from_json("payload", GST_SCHEMA).alias("g"))
    kps = F.transform(F.coalesce(F.col("g.allKpIndex"), F.array()), lambda k: num(k["kpIndex"]))
    return g.select(
        F.col("g.gstID").alias("gst_id"),
        ts("g.startTime").alias("start_time"),
        F.array_max(kps).alias("max_kp_index"),
        F.size(kps).alias("kp_reading_count"),
        F.coalesce(F.transform("g.linkedEvents", lambda e: e["activityID"]), F.array().cast("array<string>")).alias(
            "linked_event_ids"
        ),
        ts("g.submissionTime").alias("submission_time"),
        F.col("g.versionId").try_cast("int").alias("version_id"),
        F.col("g.link").alias("link"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("g").isNull(), "record is not a storm object"),
            (F.col("g").isNotNull() & blank(F.col("g.gstID")), "missing gstID"),
            (F.col("g").isNotNull() & ts("g.startTime").isNull(), "startTime missing or not a timestamp"),
        ).alias("_reasons"),
    )


def kp_readings(b: DataFrame) -> DataFrame:
    g = b.select("*", F.from_json("payload", GST_SCHEMA).alias("g")).where(
        F.col("g").isNotNull() & ~blank(F.col("g.gstID"))
    )
    k = g.select("*", F.posexplode(F.coalesce(F.col("g.allKpIndex"), F.array())).alias("i", "k"))
    kp = num("k.kpIndex")
    return k.select(
        F.col("g.gstID").alias("gst_id"),
        ts("k.observedTime").alias("observed_time"),
        kp.alias("kp_index"),
        F.coalesce(F.col("k.source"), F.lit("")).alias("source"),
        *LINEAGE,
        F.col("i").cast("string").alias("item_key"),
        reasons(
            (ts("k.observedTime").isNull(), "observedTime missing or not a timestamp"),
            (kp.isNull() | (kp < 0) | (kp > 9), "kpIndex missing or outside 0..9"),
        ).alias("_reasons"),
    )


EONET_SCHEMA = (
    "struct<id:string, title:string, description:string, link:string, closed:string,"
    " categories: array<struct<id:string, title:string>>, sources: array<struct<id:string, url:string>>,"
    " geometry: array<struct<magnitudeValue:string, magnitudeUnit:string, date:string, type:string, coordinates:string>>>"
)


def eonet_events(b: DataFrame) -> DataFrame:
    e = b.select("*", F.from_json("payload", EONET_SCHEMA).alias("e"))
    geoms = F.coalesce(F.col("e.geometry"), F.array())
    dates = F.transform(geoms, lambda g: ts(g["date"]))
    last = F.try_element_at(
        F.array_sort(F.transform(geoms, lambda g: F.struct(ts(g["date"]).alias("d"), g["coordinates"].alias("c")))),
        F.lit(-1),
    )
    last_point = F.from_json(last["c"], "array<double>")
    cats = F.coalesce(F.col("e.categories"), F.array())
    return e.select(
        F.col("e.id").alias("event_id"),
        F.col("e.title").alias("title"),
        F.col("e.description").alias("description"),
        F.col("e.link").alias("link"),
        ts("e.closed").alias("closed_at"),
        F.col("e.closed").isNull().alias("is_open"),
        F.transform(cats, lambda c: c["id"]).alias("category_ids"),
        F.transform(cats, lambda c: c["title"]).alias("category_titles"),
        F.transform(F.coalesce(F.col("e.sources"), F.array()), lambda s: s["id"]).alias("source_ids"),
        F.size(geoms).alias("geometry_count"),
        F.array_min(dates).alias("first_observed_at"),
        F.array_max(dates).alias("last_observed_at"),
        F.when(F.size(last_point) == 2, F.try_element_at(last_point, F.lit(1))).alias("last_longitude"),
        F.when(F.size(last_point) == 2, F.try_element_at(last_point, F.lit(2))).alias("last_latitude"),
        F.array_max(F.transform(geoms, lambda g: num(g["magnitudeValue"]))).alias("max_magnitude_value"),
        F.try_element_at(F.transform(geoms, lambda g: g["magnitudeUnit"]), F.lit(1)).alias("magnitude_unit"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("e").isNull(), "record is not an EONET event"),
            (F.col("e").isNotNull() & blank(F.col("e.id")), "missing id"),
            (F.col("e").isNotNull() & (F.size(cats) == 0), "event has no category"),
            (F.col("e.closed").isNotNull() & ts("e.closed").isNull(), "closed is not a timestamp"),
        ).alias("_reasons"),
    )


def eonet_geometries(b: DataFrame) -> DataFrame:
    e = b.select("*", F.from_json("payload", EONET_SCHEMA).alias("e")).where(  # only events that pass eonet_events
        F.col("e").isNotNull() & ~blank(F.col("e.id")) & (F.size(F.coalesce(F.col("e.categories"), F.array())) > 0)
    )
    g = e.select("*", F.posexplode(F.coalesce(F.col("e.geometry"), F.array())).alias("i", "g"))
    point = F.from_json(F.when(F.col("g.type") == "Point", F.col("g.coordinates")), "array<double>")
    lon, lat = F.try_element_at(point, F.lit(1)), F.try_element_at(point, F.lit(2))
    return g.select(
        F.col("e.id").alias("event_id"),
        ts("g.date").alias("observed_at"),
        F.col("g.type").alias("geometry_type"),
        lon.alias("longitude"),
        lat.alias("latitude"),
        F.regexp_replace(F.col("g.coordinates"), r"\s+", "").alias("coordinates_json"),
        num("g.magnitudeValue").alias("magnitude_value"),
        F.col("g.magnitudeUnit").alias("magnitude_unit"),
        *LINEAGE,
        F.col("i").cast("string").alias("item_key"),
        reasons(
            (ts("g.date").isNull(), "geometry date missing or not a timestamp"),
            (
                (F.col("g.type") == "Point") & ((F.size(point) != 2) | (F.abs(lat) > 90) | (F.abs(lon) > 180)),
                "Point coordinates are not [lon, lat] in range",
            ),
            (F.col("g.coordinates").isNull(), "geometry has no coordinates"),
        ).alias("_reasons"),
    )


def fireballs(b: DataFrame) -> DataFrame:
    schema = (
        "struct<date:string, energy:string, `impact-e`:string, lat:string, `lat-dir`:string, lon:string,"
        " `lon-dir`:string, alt:string, vel:string, vx:string, vy:string, vz:string>"
    )
    f = b.select("*", F.from_json("payload", schema).alias("f"))
    lat_sign = F.when(F.col("f.lat-dir") == "S", -1.0).when(F.col("f.lat-dir") == "N", 1.0)
    lon_sign = F.when(F.col("f.lon-dir") == "W", -1.0).when(F.col("f.lon-dir") == "E", 1.0)
    return f.select(
        ts("f.date").alias("peak_at"),
        num("f.energy").alias("radiated_energy_e10j"),
        num("f.impact-e").alias("impact_energy_kt"),
        (num("f.lat") * lat_sign).alias("latitude"),
        (num("f.lon") * lon_sign).alias("longitude"),
        num("f.alt").alias("altitude_km"),
        num("f.vel").alias("velocity_kms"),
        num("f.vx").alias("vx_kms"),
        num("f.vy").alias("vy_kms"),
        num("f.vz").alias("vz_kms"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("f").isNull() | ts("f.date").isNull(), "date missing or not a timestamp"),
            (num("f.energy").isNull(), "energy missing or not numeric"),
            (not_numeric(F.col("f.impact-e")), "impact-e not numeric"),
            (F.col("f.lat").isNotNull() & lat_sign.isNull(), "lat without lat-dir N/S"),
            (F.col("f.lon").isNotNull() & lon_sign.isNull(), "lon without lon-dir E/W"),
            (not_numeric(F.col("f.alt")) | not_numeric(F.col("f.vel")), "alt/vel not numeric"),
        ).alias("_reasons"),
    )


def meteorite_landings(b: DataFrame) -> DataFrame:
    schema = (
        "struct<name:string, id:string, nametype:string, recclass:string, mass:string, fall:string, year:string,"
        " reclat:string, reclong:string, geolocation: struct<latitude:string, longitude:string>>"
    )
    m = b.select("*", F.from_json("payload", schema).alias("m"))
    lat = F.coalesce(num("m.reclat"), num("m.geolocation.latitude"))
    lon = F.coalesce(num("m.reclong"), num("m.geolocation.longitude"))
    status = (
        F.when(lat.isNull() | lon.isNull(), "missing")
        .when((lat == 0) & (lon == 0), "zero")  # 0,0 is the dataset's placeholder for "unknown"
        .when((F.abs(lat) > 90) | (F.abs(lon) > 180), "out_of_range")
        .otherwise("ok")
    )
    year = F.regexp_extract(F.col("m.year"), r"^(\d{3,4})", 1).try_cast("int")
    valid_year = F.when(year <= F.year(F.current_date()), year)  # a few rows carry future years
    return m.select(
        F.col("m.id").try_cast("long").alias("meteorite_id"),
        F.col("m.name").alias("name"),
        F.col("m.nametype").alias("name_type"),
        F.col("m.recclass").alias("rec_class"),
        num("m.mass").alias("mass_g"),
        F.col("m.fall").alias("fall"),
        valid_year.alias("year"),
        F.when(status == "ok", lat).alias("latitude"),
        F.when(status == "ok", lon).alias("longitude"),
        status.alias("coordinate_status"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("m").isNull(), "record is not a meteorite object"),
            (F.col("m.id").try_cast("long").isNull(), "id missing or not an integer"),
            (F.col("m").isNotNull() & blank(F.col("m.name")), "missing name"),
            (not_numeric(F.col("m.mass")) | (num("m.mass") < 0), "mass not a non-negative number"),
            (
                F.col("m").isNotNull() & ~F.coalesce(F.col("m.fall").isin("Fell", "Found"), F.lit(False)),
                "fall is not Fell/Found",
            ),
        ).alias("_reasons"),
    )


def cmr_granules(b: DataFrame) -> DataFrame:
    rect = "struct<WestBoundingCoordinate:double, SouthBoundingCoordinate:double, EastBoundingCoordinate:double, NorthBoundingCoordinate:double>"
    schema = (
        "struct<meta: struct<`concept-id`:string, `revision-id`:string, `native-id`:string, `provider-id`:string, `revision-date`:string>,"
        " umm: struct<GranuleUR:string, CloudCover:string,"
        " TemporalExtent: struct<RangeDateTime: struct<BeginningDateTime:string, EndingDateTime:string>, SingleDateTime:string>,"
        f" SpatialExtent: struct<HorizontalSpatialDomain: struct<Geometry: struct<BoundingRectangles: array<{rect}>,"
        " GPolygons: array<struct<Boundary: struct<Points: array<struct<Longitude:double, Latitude:double>>>>>>>>,"
        " CollectionReference: struct<ShortName:string, Version:string, EntryTitle:string>,"
        " DataGranule: struct<DayNightFlag:string, ArchiveAndDistributionInformation: array<struct<Size:double, SizeUnit:string>>>,"
        " Platforms: array<struct<ShortName:string>>>>"
    )
    g = b.select("*", F.from_json("payload", schema).alias("g"))
    geo = F.col("g.umm.SpatialExtent.HorizontalSpatialDomain.Geometry")
    rects = F.coalesce(geo["BoundingRectangles"], F.array())
    points = F.flatten(F.transform(F.coalesce(geo["GPolygons"], F.array()), lambda p: p["Boundary"]["Points"]))

    def bound(rect_field: str, point_field: str, agg):  # noqa: E306
        from_rects = agg(F.transform(rects, lambda r: r[rect_field]))
        return F.coalesce(from_rects, agg(F.transform(points, lambda p: p[point_field])))

    single = F.col("g.umm.TemporalExtent.SingleDateTime")
    begin = ts(F.coalesce(F.col("g.umm.TemporalExtent.RangeDateTime.BeginningDateTime"), single))
    end = ts(F.coalesce(F.col("g.umm.TemporalExtent.RangeDateTime.EndingDateTime"), single))
    sizes = F.coalesce(F.col("g.umm.DataGranule.ArchiveAndDistributionInformation"), F.array())
    size_mb = F.aggregate(
        sizes,
        F.lit(None).cast("double"),
        lambda acc, s: F.coalesce(acc, F.lit(0.0))
        + F.when(F.upper(s["SizeUnit"]) == "MB", s["Size"])
        .when(F.upper(s["SizeUnit"]) == "GB", s["Size"] * 1024)
        .when(F.upper(s["SizeUnit"]) == "KB", s["Size"] / 1024)
        .otherwise(0.0),
    )
    return g.select(
        F.col("g.meta.concept-id").alias("concept_id"),
        F.col("g.meta.revision-id").try_cast("long").alias("revision_id"),
        F.col("g.meta.provider-id").alias("provider_id"),
        F.col("g.umm.GranuleUR").alias("granule_ur"),
        F.coalesce(F.col("g.umm.CollectionReference.ShortName"), F.col("_stream")).alias("collection_short_name"),
        F.col("g.umm.CollectionReference.Version").alias("collection_version"),
        begin.alias("begin_time"),
        end.alias("end_time"),
        bound("WestBoundingCoordinate", "Longitude", F.array_min).alias("west"),
        bound("SouthBoundingCoordinate", "Latitude", F.array_min).alias("south"),
        bound("EastBoundingCoordinate", "Longitude", F.array_max).alias("east"),
        bound("NorthBoundingCoordinate", "Latitude", F.array_max).alias("north"),
        num("g.umm.CloudCover").alias("cloud_cover_pct"),
        F.col("g.umm.DataGranule.DayNightFlag").alias("day_night_flag"),
        size_mb.alias("size_mb"),
        F.transform(F.coalesce(F.col("g.umm.Platforms"), F.array()), lambda p: p["ShortName"]).alias("platforms"),
        ts("g.meta.revision-date").alias("revision_date"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("g").isNull(), "record is not a CMR UMM item"),
            (blank(F.col("g.meta.concept-id")), "missing meta.concept-id"),
            (F.col("g").isNotNull() & begin.isNull(), "no temporal extent"),
            (not_numeric(F.col("g.umm.CloudCover")), "CloudCover not numeric"),
        ).alias("_reasons"),
    )


def cmr_version() -> Column:
    # A later CMR revision wins even when an older page lands later.
    return F.concat_ws("|", F.lpad(F.coalesce(F.col("revision_id"), F.lit(0)).cast("string"), 12, "0"), version_col())


def apod_entries(b: DataFrame) -> DataFrame:
    schema = (
        "struct<date:string, title:string, explanation:string, url:string, hdurl:string, media_type:string,"
        " service_version:string, copyright:string, thumbnail_url:string, code:string, msg:string>"
    )
    a = b.select("*", F.from_json("payload", schema).alias("a"))
    day = F.col("a.date").try_cast("date")
    return a.select(
        day.alias("apod_date"),
        F.col("a.title").alias("title"),
        F.col("a.explanation").alias("explanation"),
        F.col("a.media_type").alias("media_type"),
        F.col("a.url").alias("url"),
        F.col("a.hdurl").alias("hdurl"),
        F.col("a.thumbnail_url").alias("thumbnail_url"),
        F.nullif(F.trim(F.regexp_replace(F.col("a.copyright"), r"\s+", " ")), F.lit("")).alias("copyright"),
        F.col("a.service_version").alias("service_version"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("a").isNull(), "record is not an APOD object"),
            (F.col("a.code").isNotNull(), "upstream error body"),
            (F.col("a").isNotNull() & F.col("a.code").isNull() & day.isNull(), "date missing or not a date"),
            (F.col("a").isNotNull() & F.col("a.code").isNull() & blank(F.col("a.title")), "missing title"),
        ).alias("_reasons"),
    )


def epic_images(b: DataFrame) -> DataFrame:
    schema = (
        "struct<identifier:string, caption:string, image:string, version:string, date:string,"
        " centroid_coordinates: struct<lat:string, lon:string>>"
    )
    e = b.select("*", F.from_json("payload", schema).alias("e"))
    return e.select(
        F.col("e.identifier").alias("identifier"),
        F.col("e.image").alias("image"),
        F.col("e.caption").alias("caption"),
        F.col("e.version").alias("version"),
        ts("e.date").alias("taken_at"),
        num("e.centroid_coordinates.lat").alias("centroid_latitude"),
        num("e.centroid_coordinates.lon").alias("centroid_longitude"),
        F.col("_stream").alias("collection"),
        *LINEAGE,
        F.lit("").alias("item_key"),
        reasons(
            (F.col("e").isNull(), "record is not an EPIC image object"),
            (blank(F.col("e.identifier")), "missing identifier"),
            (F.col("e").isNotNull() & ts("e.date").isNull(), "date missing or not a timestamp"),
        ).alias("_reasons"),
    )


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "neo_close_approaches",
        "neows",
        "neows_feed",
        ("neo_id", "close_approach_epoch_ms", "orbiting_body"),
        neo_close_approaches,
    ),
    Entity("solar_flares", "donki", "donki_flr", ("flr_id",), solar_flares),
    Entity("cmes", "donki", "donki_cme", ("activity_id",), cmes),
    Entity("cme_analyses", "donki", "donki_cme", ("analysis_id",), cme_analyses, primary=False),
    Entity("geomagnetic_storms", "donki", "donki_gst", ("gst_id",), geomagnetic_storms),
    Entity("kp_readings", "donki", "donki_gst", ("gst_id", "observed_time", "source"), kp_readings, primary=False),
    Entity("eonet_events", "eonet", "eonet_events", ("event_id",), eonet_events),
    Entity(
        "eonet_geometries",
        "eonet",
        "eonet_events",
        ("event_id", "observed_at", "geometry_type", "coordinates_json"),
        eonet_geometries,
        primary=False,
    ),
    Entity("fireballs", "fireball", "fireball", ("peak_at",), fireballs),
    Entity("meteorite_landings", "meteorites", "meteorite_landings", ("meteorite_id",), meteorite_landings),
    Entity("cmr_granules", "cmr", "cmr_granules", ("concept_id",), cmr_granules, version=cmr_version),
    Entity("apod_entries", "apod", "apod", ("apod_date",), apod_entries),
    Entity("epic_images", "epic", "epic_natural", ("identifier",), epic_images),
)


def entities_for(source: str) -> list[Entity]:
    return [e for e in ENTITIES if e.source == source]


# --- pipeline -----------------------------------------------------------------------------------------------
def split(entity: Entity, bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(latest good row per natural key, quarantine rows) for one entity over bronze rows."""
    parsed = bronze.where(F.col("payload").isNotNull())
    typed = entity.build(parsed).withColumn("_version", entity.version())
    good = typed.where(F.size("_reasons") == 0)
    w = Window.partitionBy(*entity.keys).orderBy(F.col("_version").desc())
    latest = (
        good.withColumn("_rank", F.row_number().over(w))
        .where("_rank = 1")
        .drop("_rank", "_reasons", "item_key")
        .withColumn("_silver_updated_at", F.current_timestamp())
    )
    bad = typed.where(F.size("_reasons") > 0).select(
        F.lit(entity.name).alias("entity"),
        F.array_join("_reasons", "; ").alias("reason"),
        F.col("item_key"),
        *LINEAGE,
    )
    bad = bad.join(
        parsed.select("_blob_name", "_record_index", "payload", "_source", "_stream"), ["_blob_name", "_record_index"]
    )
    if entity.primary:
        corrupt = bronze.where(F.col("payload").isNull()).select(
            F.lit(entity.name).alias("entity"),
            F.lit("raw file is not valid JSON of the expected shape").alias("reason"),
            F.lit("").alias("item_key"),
            *LINEAGE,
            F.col("_corrupt_record").alias("payload"),
            "_source",
            "_stream",
        )
        bad = bad.unionByName(corrupt)
    return latest, bad.withColumn("_quarantined_at", F.current_timestamp())


def read_bronze(spark: SparkSession, lake_root: str, table: str, files: list[ManifestFile]) -> DataFrame | None:
    path = table_path(lake_root, "bronze", table)
    if not delta_io.exists(spark, path):
        return None
    df = spark.read.format("delta").load(path)
    names = [f.path for f in files if f.container == "raw"]
    return df.where(F.col("_blob_name").isin(names)) if names else df


def top_reasons(bad: DataFrame, top: int = 5) -> dict[str, int]:
    """The most frequent quarantine reasons of this run's rows (for the task's exit value: what went wrong, at a glance)."""
    rows = bad.groupBy("reason").count().orderBy(F.col("count").desc(), F.col("reason")).limit(top).collect()
    return {str(r["reason"]): int(r["count"]) for r in rows}


def run_silver(spark: SparkSession, lake_root: str, source: str, manifest: str | None = None) -> dict[str, dict]:
    """Silver for one source: MERGE every entity; returns per-entity counts (candidates, quarantined, table rows,
    and the top quarantine reasons of this run when any)."""
    summary: dict[str, dict] = {}
    files = resolve_manifest(spark, lake_root, manifest)  # once: a manifest by reference is a lake read
    for entity in entities_for(source):
        bronze = read_bronze(spark, lake_root, entity.bronze_table, files)
        if bronze is None:
            summary[entity.name] = {"candidates": 0, "quarantined": 0, "rows": 0}
            continue
        latest, bad = split(entity, bronze)
        latest = latest.cache()
        bad = bad.cache()
        try:
            path = table_path(lake_root, "silver", entity.name)
            candidates = latest.count()
            created = not delta_io.exists(spark, path)
            if candidates or created:
                delta_io.upsert_latest(spark, latest, path, list(entity.keys))
            quarantined = bad.count()
            reasons: dict[str, int] = {}
            if quarantined:
                delta_io.insert_new(spark, bad, table_path(lake_root, "quarantine", QUARANTINE_TABLE), QUARANTINE_KEYS)
                reasons = top_reasons(bad)
            # A table this run created holds exactly its candidates; otherwise count after the MERGE.
            rows = candidates if created else spark.read.format("delta").load(path).count()
            summary[entity.name] = {"candidates": candidates, "quarantined": quarantined, "rows": rows}
            if reasons:
                summary[entity.name]["reasons"] = reasons
        finally:
            latest.unpersist()
            bad.unpersist()
    return summary
