"""What each raw stream looks like: how a response body splits into records, the bronze table it lands in, and
the top-level record fields we expect (anything else is kept as rescued data)."""

from __future__ import annotations

from dataclasses import dataclass

# Record extraction kinds (see bronze.extract_records).
ARRAY = "array"  # JSON array of records (a single object is one record: APOD date/default responses)
NEOWS_FEED = "neows_feed"  # {near_earth_objects: {<date>: [NEO]}} -> one record per NEO, group = feed date
EONET = "eonet"  # {events: [...]}
JPL_TABLE = "jpl_table"  # {fields: [...], data: [[...]]} -> one JSON object per row keyed by field name
CMR_UMM = "cmr_umm"  # {hits, took, items: [{meta, umm}]}


@dataclass(frozen=True)
class StreamSpec:
    source: str
    stream: str | None  # None: every stream of the source (cmr/<collection>)
    bronze_table: str
    kind: str
    expected_fields: tuple[str, ...]


DONKI_COMMON = ("link", "linkedEvents", "submissionTime", "versionId", "instruments", "catalog")

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        "neows",
        "feed",
        "neows_feed",
        NEOWS_FEED,
        (
            "links",
            "id",
            "neo_reference_id",
            "name",
            "designation",
            "nasa_jpl_url",
            "absolute_magnitude_h",
            "estimated_diameter",
            "is_potentially_hazardous_asteroid",
            "close_approach_data",
            "is_sentry_object",
            "sentry_data",
            "orbital_data",
        ),
    ),
    StreamSpec(
        "donki",
        "FLR",
        "donki_flr",
        ARRAY,
        DONKI_COMMON
        + ("flrID", "beginTime", "peakTime", "endTime", "classType", "sourceLocation", "activeRegionNum", "note"),
    ),
    StreamSpec(
        "donki",
        "CME",
        "donki_cme",
        ARRAY,
        DONKI_COMMON + ("activityID", "startTime", "sourceLocation", "activeRegionNum", "note", "cmeAnalyses"),
    ),
    StreamSpec("donki", "GST", "donki_gst", ARRAY, DONKI_COMMON + ("gstID", "startTime", "allKpIndex")),
    StreamSpec(
        "eonet",
        "events",
        "eonet_events",
        EONET,
        ("id", "title", "description", "link", "closed", "categories", "sources", "geometry"),
    ),
    StreamSpec(
        "apod",
        "apod",
        "apod",
        ARRAY,
        ("date", "title", "explanation", "url", "hdurl", "media_type", "service_version", "copyright", "thumbnail_url"),
    ),
    StreamSpec(
        "epic",
        "natural",
        "epic_natural",
        ARRAY,
        (
            "identifier",
            "caption",
            "image",
            "version",
            "date",
            "centroid_coordinates",
            "dscovr_j2000_position",
            "lunar_j2000_position",
            "sun_j2000_position",
            "attitude_quaternions",
            "coords",
        ),
    ),
    StreamSpec(
        "fireball",
        "fireball",
        "fireball",
        JPL_TABLE,
        ("date", "energy", "impact-e", "lat", "lat-dir", "lon", "lon-dir", "alt", "vel", "vx", "vy", "vz"),
    ),
    StreamSpec(
        "meteorites",
        "landings",
        "meteorite_landings",
        ARRAY,
        ("name", "id", "nametype", "recclass", "mass", "fall", "year", "reclat", "reclong", "geolocation"),
    ),
    StreamSpec("cmr", None, "cmr_granules", CMR_UMM, ("meta", "umm")),
)


def streams_for(source: str) -> list[StreamSpec]:
    return [s for s in STREAMS if s.source == source]


def spec_for(source: str, stream: str) -> StreamSpec | None:
    for s in streams_for(source):
        if s.stream is None or s.stream == stream:
            return s
    return None


def bronze_table(source: str, stream: str | None) -> str:
    for s in streams_for(source):
        if s.stream == stream or s.stream is None:
            return s.bronze_table
    raise KeyError(f"no bronze table for {source}/{stream}")
