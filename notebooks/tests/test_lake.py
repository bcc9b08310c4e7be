import json
import os

import pytest

from orbiter_lake.lake import (
    LakeError,
    ManifestFile,
    ManifestRef,
    manifest_raw_paths,
    parse_blob_name,
    parse_manifest,
    parse_manifest_file,
    resolve_manifest,
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


@pytest.mark.parametrize(
    "path",
    [
        "neows/../../quarantine/neows/feed/2024/05/25/x.json",
        "neows/./feed/x.json",
        "neows//feed/x.json",
        "neows\\..\\silver\\x.json",
        "neows/feed/x\u0000.json",
    ],
)
def test_attack_manifest_paths_that_leave_the_raw_zone_are_refused(path):
    text = json.dumps({"files": [{"container": "raw", "path": path}]})
    with pytest.raises(LakeError, match="path"):
        parse_manifest(text)


def test_attack_manifest_containers_must_be_lake_zones():
    with pytest.raises(LakeError, match="container"):
        parse_manifest('{"files":[{"container":"../raw","path":"neows/x.json"}]}')


REF = '{"ref":{"container":"events","path":"manifests/neows/neows-20261124T1000-abc.json"}}'


def test_manifest_by_reference_is_parsed_into_a_ref():
    ref = parse_manifest(REF)
    assert ref == ManifestRef("events", "manifests/neows/neows-20261124T1000-abc.json")
    assert str(ref) == "events/manifests/neows/neows-20261124T1000-abc.json"


@pytest.mark.parametrize(
    "text,message",
    [
        ('{"ref":{"container":"events","path":"m.json"},"files":[]}', "not both"),
        ('{"ref":"events/m.json"}', "must be {"),
        ('{"ref":{"container":"events"}}', "must be {"),
        ('{"ref":{"container":"platinum","path":"m.json"}}', "must be a lake zone"),
        ('{"ref":{"container":"events","path":"../raw/m.json"}}', "inside the events zone"),
        ('{"ref":{"container":"events","path":"/"}}', "inside the events zone"),
    ],
)
def test_bad_manifest_refs_raise_with_what_is_wrong(text, message):
    with pytest.raises(LakeError, match=message):
        parse_manifest(text)


def test_referenced_manifest_content_is_the_inline_form_only():
    ref = ManifestRef("events", "manifests/neows/r1.json")
    assert parse_manifest_file('{"files":[{"container":"raw","path":"neows/a.json","etag":"0x1"}]}', ref) == [
        ManifestFile("raw", "neows/a.json", "0x1")
    ]
    assert parse_manifest_file('{"files":[]}', ref) == []
    with pytest.raises(LakeError, match=r"events/manifests/neows/r1.json is not JSON"):
        parse_manifest_file('{"files": [', ref)
    for nested in ('{"ref":{"container":"events","path":"x.json"}}', "{}", "[]"):
        with pytest.raises(LakeError, match=r"events/manifests/neows/r1.json must be an object"):
            parse_manifest_file(nested, ref)
    with pytest.raises(LakeError, match=r"r1.json.files\[0\] needs a string path"):
        parse_manifest_file('{"files":[{"container":"raw"}]}', ref)


def test_resolve_manifest_passes_inline_manifests_through_without_spark():
    assert resolve_manifest(None, "/lake", "") == []
    assert resolve_manifest(None, "/lake", '{"files":[{"path":"neows/a.json"}]}') == [
        ManifestFile("raw", "neows/a.json")
    ]


def _write(lake, rel, text):
    path = os.path.join(lake, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def test_resolve_manifest_reads_the_referenced_file_from_the_lake(spark, lake):
    files = [
        {"container": "raw", "path": f"neows/feed/2024/05/25/a_b.p{i:04d}.json", "etag": f"0x{i}"} for i in range(300)
    ]
    _write(lake, "events/manifests/neows/neows-20261124T1000-abc.json", json.dumps({"files": files}))
    resolved = resolve_manifest(spark, lake, REF)
    assert resolved == [ManifestFile("raw", f["path"], f["etag"]) for f in files]
    assert len(manifest_raw_paths(lake, resolved, "neows")) == 300


def test_resolve_manifest_errors_name_the_manifest(spark, lake):
    with pytest.raises(
        LakeError, match=r"input manifest events/manifests/neows/neows-20261124T1000-abc.json does not exist"
    ):
        resolve_manifest(spark, lake, REF)
    _write(lake, "events/manifests/neows/neows-20261124T1000-abc.json", '{"files": [')
    with pytest.raises(LakeError, match=r"neows-20261124T1000-abc.json is not JSON"):
        resolve_manifest(spark, lake, REF)


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
