"""The local Spark JVM's class-data archive: which archive fits which JDK and jars, when it is used, how it is made."""

import json
import os
import shutil
import subprocess
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


def _make(folder: str) -> subprocess.CompletedProcess:
    script = os.path.join(RUNNER_DIR, "class_archive.py")
    env = {k: v for k, v in os.environ.items() if k != ss.CLASS_ARCHIVE_ENV}
    return subprocess.run(
        [sys.executable, script, "--dir", folder], capture_output=True, text=True, env=env, timeout=900
    )


def test_the_archive_is_not_made_inside_a_process_that_runs_spark(spark, class_archive, tmp_path):
    with pytest.raises(class_archive.ArchiveError, match="process of its own"):
        class_archive.build(str(tmp_path))
    assert spark.range(3).count() == 3  # this process's Spark is untouched
    assert os.listdir(tmp_path) == []


def test_making_the_archive_trains_a_jvm_checks_and_stamps_it(class_archive, tmp_path):
    """A real training JVM in a process of its own, as setup runs it (~1.5 min): the archive is mapped by a checking
    JVM before it is kept."""
    folder = str(tmp_path / "archives")
    os.makedirs(folder)
    stale = _touch(os.path.join(folder, "spark-0000000000000000.jsa"), 10)
    done = _make(folder)
    assert done.returncode == 0, done.stderr[-2000:]
    made = done.stdout.strip().splitlines()[-1].split("class archive: ", 1)[1].rsplit(" (", 1)[0]
    assert ss.usable_class_archive(made)
    assert ss.class_archive_options(archive_dir=folder) == f"-XX:SharedArchiveFile={made}"
    assert not os.path.exists(stale)  # archives of other JDKs or jars are removed
    assert sorted(os.listdir(folder)) == sorted([os.path.basename(made), os.path.basename(made) + ".json"])
    made_at = os.stat(made).st_mtime_ns
    again = _make(folder)  # up to date: no second training
    assert again.returncode == 0 and made in again.stdout and os.stat(made).st_mtime_ns == made_at

    with open(f"{made}.json", encoding="utf-8") as fh:
        classes = json.load(fh)["class_path"]  # the training JVM's class path, which the archive is bound to
    class_archive.check(ss.java_binary(), made, classes)
    truncated = str(tmp_path / "truncated.jsa")
    with open(made, "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read(os.path.getsize(made) // 3))
    with pytest.raises(class_archive.ArchiveError, match="cannot map"):
        class_archive.check(ss.java_binary(), truncated, classes)
    shutil.rmtree(folder)
