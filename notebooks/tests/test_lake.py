import pytest

from orbiter_lake.lake import (
    LakeError,
    ManifestFile,
    manifest_raw_paths,
    parse_blob_name,
    parse_manifest,
    zone_path,
)


def test_zone_path_plain_root_puts_zones_under_it():
    assert zone_path("/data/.orbiter/lake/", "bronze", "neows_feed") == "/data/.orbiter/lake/bronze/neows_feed"
    assert zone_path("/data/lake", "raw") == "/data/lake/raw"


def test_zone_path_substitutes_zone_template():
    root = "abfss://{zone}@acct.dfs.core.windows.net"
    assert zone_path(root, "silver", "solar_flares") == "abfss://silver@acct.dfs.core.windows.net/solar_flares"
    assert zone_path(root, "raw", "donki/") == "abfss://raw@acct.dfs.core.windows.net/donki"


def test_zone_path_rejects_unknown_zone_and_empty_root():
    with pytest.raises(LakeError):
        zone_path("/lake", "platinum")
    with pytest.raises(LakeError):
        zone_path("", "raw")


@pytest.mark.parametrize("text", ["", "   ", None, '{"files":[]}'])
def test_empty_manifest_means_everything(text):
    assert parse_manifest(text) == []


def test_manifest_files_are_parsed_and_filtered_by_source():
    files = parse_manifest(
        '{"files":[{"container":"raw","path":"neows/feed/2024/05/25/a_b.json","etag":"0x1"},'
        '{"container":"raw","path":"/donki/FLR/2024/05/01/c_d.json"},{"container":"quarantine","path":"neows/x.json"}]}'
    )
    assert files[0] == ManifestFile("raw", "neows/feed/2024/05/25/a_b.json", "0x1")
    assert files[1].path == "donki/FLR/2024/05/01/c_d.json"
    assert manifest_raw_paths("/lake", files, "neows") == ["/lake/raw/neows/feed/2024/05/25/a_b.json"]


@pytest.mark.parametrize("text", ["{", "[]", '{"files":{}}', '{"files":[{"container":"raw"}]}'])
def test_bad_manifest_raises(text):
    with pytest.raises(LakeError):
        parse_manifest(text)


def test_blob_names_parse_window_page_and_sha():
    b = parse_blob_name("cmr/MYD021KM/2024/05/31/2024-05-31_2024-06-01.p0002.0123456789abcdef.json")
    assert (b.source, b.stream, b.window_start, b.window_end, b.page, b.sha16) == (
        "cmr",
        "MYD021KM",
        "2024-05-31",
        "2024-06-01",
        2,
        "0123456789abcdef",
    )
    b = parse_blob_name("raw/neows/feed/2024/05/25/2024-05-25_2024-05-31.json")
    assert (b.source, b.window_end, b.page, b.sha16) == ("neows", "2024-05-31", None, None)
    with pytest.raises(LakeError):
        parse_blob_name("neows/feed/oops.json")
