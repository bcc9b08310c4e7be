"""The local Spark JVM's class-data archive: which archive fits which JDK and jars, when it is used, how it is made."""

import json
import os
import shutil
import sys

import pytest
from helpers import RUNNER_DIR

from orbiter_lake import spark_session as ss


def _touch(path: str, size: int) -> str:
    with open(path, "wb") as fh:
        fh.write(b"x" * size)
    return path


@pytest.fixture
def fake_install(tmp_path):
    os.makedirs(tmp_path / "jdk" / "bin")
    java = _touch(str(tmp_path / "jdk" / "bin" / "java"), 10)
    jars = [_touch(str(tmp_path / f"lib{i}.jar"), 100 + i) for i in range(3)]
    return java, jars


def test_the_fingerprint_follows_the_jdk_and_every_jar(fake_install, tmp_path):
    java, jars = fake_install
    first = ss.class_archive_fingerprint(java, jars)
    assert ss.class_archive_fingerprint(java, list(jars)) == first  # same files: same archive
    _touch(jars[1], 999)  # a jar replaced
    changed = ss.class_archive_fingerprint(java, jars)
    assert changed != first
    extra = _touch(str(tmp_path / "lib9.jar"), 5)
    assert ss.class_archive_fingerprint(java, [*jars, extra]) != changed  # a jar added
    other_java = _touch(str(tmp_path / "java"), 10)
    assert ss.class_archive_fingerprint(other_java, jars) != changed  # another JDK
    assert ss.class_archive_path(java, jars, str(tmp_path)).endswith(f"spark-{changed}.jsa")


def test_an_archive_is_used_only_whole_and_not_when_turned_off(tmp_path, monkeypatch):
    java = ss.java_binary()
    assert java, "tests need a JDK"
    path = ss.class_archive_path(java, ss.spark_jars(), str(tmp_path))
    assert ss.class_archive_options(archive_dir=str(tmp_path)) == ""  # none made yet
    _touch(path, 4096)
    assert ss.class_archive_options(archive_dir=str(tmp_path)) == ""  # no stamp: not known to be whole
    with open(f"{path}.json", "w", encoding="utf-8") as fh:
        fh.write('{"size": 4096}')
    assert ss.class_archive_options(archive_dir=str(tmp_path)) == f"-XX:SharedArchiveFile={path}"
    monkeypatch.setenv(ss.CLASS_ARCHIVE_ENV, "off")
    assert ss.class_archive_options(archive_dir=str(tmp_path)) == ""
    monkeypatch.delenv(ss.CLASS_ARCHIVE_ENV)
    _touch(path, 1000)  # truncated: mapping it would crash the JVM
    assert not ss.usable_class_archive(path)
    assert ss.class_archive_options(archive_dir=str(tmp_path)) == ""


@pytest.fixture(scope="module")
def class_archive():
    sys.path.insert(0, RUNNER_DIR)
    try:
        import class_archive
    finally:
        sys.path.pop(0)
    return class_archive


def test_making_the_archive_trains_a_jvm_checks_and_stamps_it(class_archive, tmp_path, monkeypatch):
    """A real training JVM (the slow part, ~1 min): the archive is mapped by a checking JVM before it is kept."""
    monkeypatch.delenv(ss.CLASS_ARCHIVE_ENV, raising=False)
    folder = str(tmp_path / "archives")
    os.makedirs(folder)
    stale = _touch(os.path.join(folder, "spark-0000000000000000.jsa"), 10)
    made = class_archive.build(folder)
    assert ss.usable_class_archive(made)
    assert ss.class_archive_options(archive_dir=folder) == f"-XX:SharedArchiveFile={made}"
    assert not os.path.exists(stale)  # archives of other JDKs or jars are removed
    assert sorted(os.listdir(folder)) == sorted([os.path.basename(made), os.path.basename(made) + ".json"])
    assert class_archive.build(folder) == made  # up to date: no second training

    with open(f"{made}.json", encoding="utf-8") as fh:
        classes = json.load(fh)["class_path"]  # the training JVM's class path, which the archive is bound to
    class_archive.check(ss.java_binary(), made, classes)
    truncated = str(tmp_path / "truncated.jsa")
    with open(made, "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read(os.path.getsize(made) // 3))
    with pytest.raises(class_archive.ArchiveError, match="cannot map"):
        class_archive.check(ss.java_binary(), truncated, classes)
    shutil.rmtree(folder)
