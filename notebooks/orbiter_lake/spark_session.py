"""Spark session helpers: the local (tests, notebook runner) Delta session and per-run settings."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import tempfile

from pyspark.sql import SparkSession

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def default_jars_dir() -> str:
    """<repo>/.orbiter/jars (filled by scripts/setup-python.sh); ORBITER_JARS_DIR overrides."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("ORBITER_JARS_DIR") or os.path.normpath(os.path.join(here, "..", "..", ".orbiter", "jars"))


SUPPORTED_JAVA = ("17", "21")  # Spark 4.0 runs on Java 17/21; machines may also carry a newer JDK


def _java_major(java_home: str) -> str | None:
    try:
        with open(os.path.join(java_home, "release"), encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("JAVA_VERSION="):
                    return line.split("=", 1)[1].strip().strip('"').split(".")[0]
    except OSError:
        return None
    return None


def ensure_supported_java() -> None:
    """If JAVA_HOME points at a JDK Spark 4.0 does not support, switch to an installed JDK 17."""
    current = os.environ.get("JAVA_HOME")
    if not current or _java_major(current) in SUPPORTED_JAVA:
        return
    for candidate in sorted(glob.glob("/usr/lib/jvm/*17*")):
        if _java_major(candidate) == "17":
            os.environ["JAVA_HOME"] = candidate
            return


# JIT by JVM lifetime, both with the serial GC (G1's concurrent threads cost more CPU than they save on small data).
# A JVM that lives for one notebook task exits before C2's optimised code pays for its compiler threads, which compete
# with Spark for 2 cores: C1 only (main job with a JVM per task: 942 s with C2 and G1, 462 s with C1). A long-lived
# JVM (a cluster driver, the test session) plans the same queries hundreds of times: C2 (bronze/silver/gold of the 8
# sources in one JVM: 119 s with C1 only, 85-90 s with C2 cold, 59 s once warm). ORBITER_SPARK_JAVA_OPTIONS replaces
# either. The long-lived JVM's heap is sized for Spark's allocation rate (bronze -> silver -> gold of the 8 sources in
# one cold JVM): with the defaults, a heap that starts at 1/64 of the machine's memory and a young generation of about
# 130 MiB, that took 349 collections and 5.8 s of pauses, 4 of them full (class metadata, then old-generation growth);
# with the whole heap from the start, 320 MiB of it young and room for class metadata, 144 and 3.3 s, none full. A JVM
# per task only gets the room for class metadata: two of them at once with the whole heap each took the stack's peak
# RSS from 3.1 to 3.9 GiB.
DRIVER_MEMORY = "1g"  # Spark's default, set explicitly because the initial heap below must not exceed it
# Every local JVM: the serial GC and room for class metadata.
COMMON_JAVA_OPTIONS = "-XX:+UseSerialGC -XX:MetaspaceSize=256m"
HEAP_JAVA_OPTIONS = f"{COMMON_JAVA_OPTIONS} -Xms{DRIVER_MEMORY} -Xmn320m"
SHORT_LIVED_JAVA_OPTIONS = f"-XX:TieredStopAtLevel=1 {COMMON_JAVA_OPTIONS}"
# C2 compiles a method after 5,000 calls by default: a cold cycle then spent 53 s of its 138-140 s of JVM CPU in the C2
# compiler thread, on methods that were never hot enough to pay for it. Ten times the thresholds leave C2 the methods
# that are (28 and 24 s of 128 and 106 s, the planning and task threads up 4-10 s).
C2_LATER_JAVA_OPTIONS = (
    "-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
    " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"
)
LONG_LIVED_JAVA_OPTIONS = f"{HEAP_JAVA_OPTIONS} {C2_LATER_JAVA_OPTIONS}"


def local_java_options(short_lived: bool = False) -> str:
    default = SHORT_LIVED_JAVA_OPTIONS if short_lived else LONG_LIVED_JAVA_OPTIONS
    return os.environ.get("ORBITER_SPARK_JAVA_OPTIONS", default)


# Class-data sharing: an archive of the classes a Spark + Delta JVM loads at start, made once by
# packages/databricks-emulator/runner/class_archive.py (scripts/setup-python.sh runs it). A JVM that maps it skips
# reading, parsing and verifying most of them: local Spark starts in 2.5-4.0 s instead of 4.8-7.2 s (2 cores). The
# archive only fits the JDK and jars it was made with, so its name carries their fingerprint; a stamp beside it holds
# its size, because the JVM crashes (SIGBUS) mapping a truncated archive rather than ignoring it.
CLASS_ARCHIVE_ENV = "ORBITER_SPARK_CLASS_ARCHIVE"  # "off": start without it


def default_class_archive_dir() -> str:
    return os.path.join(os.path.dirname(default_jars_dir()), "class-archive")


def java_binary() -> str | None:
    """The java that PySpark's launcher runs (JAVA_HOME's, else the first on PATH), resolved."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    return os.path.realpath(java) if java and os.path.isfile(java) else None


def spark_jars(jars_dir: str | None = None) -> list[str]:
    """The jars a local Spark JVM loads classes from: PySpark's own (its class path) and the Delta jars."""
    from pyspark.find_spark_home import _find_spark_home

    own = glob.glob(os.path.join(_find_spark_home(), "jars", "*.jar"))
    return sorted(own) + sorted(glob.glob(os.path.join(jars_dir or default_jars_dir(), "delta-*.jar")))


def class_archive_fingerprint(java: str, jars: list[str]) -> str:
    """Changes with the JVM build (its libjvm) or any jar (name, size, modification time)."""
    h = hashlib.sha256()
    libjvm = os.path.join(os.path.dirname(os.path.dirname(java)), "lib", "server", "libjvm.so")
    for path in [java, libjvm, *jars]:
        try:
            st = os.stat(path)
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{path}\0missing\n".encode())
    return h.hexdigest()[:16]


def class_archive_path(java: str, jars: list[str], archive_dir: str | None = None) -> str:
    name = f"spark-{class_archive_fingerprint(java, jars)}.jsa"
    return os.path.join(archive_dir or default_class_archive_dir(), name)


def usable_class_archive(path: str) -> bool:
    """The archive exists and is as long as when it was made and checked (its stamp says so)."""
    try:
        with open(f"{path}.json", encoding="utf-8") as fh:
            stamp = json.load(fh)
        return os.path.getsize(path) == int(stamp["size"]) > 0
    except (OSError, ValueError, KeyError, TypeError):
        return False


def class_archive_options(jars_dir: str | None = None, archive_dir: str | None = None) -> str:
    """The JVM option that maps this JDK's and these jars' archive, or "" (none made yet, or turned off)."""
    if os.environ.get(CLASS_ARCHIVE_ENV, "").strip().lower() == "off":
        return ""
    java = java_binary()
    if java is None:
        return ""
    path = class_archive_path(java, spark_jars(jars_dir), archive_dir)
    return f"-XX:SharedArchiveFile={path}" if usable_class_archive(path) else ""


def local_spark(
    app_name: str = "orbiter-local",
    jars_dir: str | None = None,
    short_lived: bool = False,
    extra_java_options: str = "",
    use_class_archive: bool = True,
) -> SparkSession:
    """A small local Spark with Delta from pre-fetched jars (spark.jars: no Ivy download at start). short_lived: the
    JVM serves one notebook task and exits (see SHORT_LIVED_JAVA_OPTIONS)."""
    jars_dir = jars_dir or default_jars_dir()
    jars = sorted(glob.glob(os.path.join(jars_dir, "delta-*.jar")))
    if not any(os.path.basename(j).startswith("delta-spark_") for j in jars):
        raise RuntimeError(f"Delta jars not found in {jars_dir}: run scripts/setup-python.sh")
    ensure_supported_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    scratch = tempfile.mkdtemp(prefix="orbiter-spark-")
    java_options = " ".join(
        o
        for o in (
            f"-Dderby.system.home={scratch}",
            local_java_options(short_lived),
            class_archive_options(jars_dir) if use_class_archive else "",
            extra_java_options,
        )
        if o
    )
    builder = (
        SparkSession.builder.master(os.environ.get("ORBITER_SPARK_MASTER", "local[2]"))
        .appName(app_name)
        .config("spark.jars", ",".join(jars))
        .config("spark.driver.memory", DRIVER_MEMORY)
        # Loopback only: the driver's RPC and block manager ports must not listen on other interfaces; no UI.
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.sql.adaptive.enabled", "false")
        # What Spark keeps of finished jobs, stages, tasks and SQL executions for its UI and REST API, of which there
        # is none here: by default up to 1,000 of each (and 100,000 tasks per stage) in the driver's heap. A cycle of
        # the 8 pipelines runs about 700 SQL executions; in a warm driver its status objects took 1.6 MiB after one
        # cycle and 2.9 MiB after two, against 0.2 MiB with these limits.
        .config("spark.ui.retainedJobs", "50")
        .config("spark.ui.retainedStages", "50")
        .config("spark.ui.retainedTasks", "1000")
        .config("spark.sql.ui.retainedExecutions", "50")
        .config("spark.ui.dagGraph.retainedRootRDDs", "50")
        # A read of N > 32 paths (a fireball run's 365 files) lists them with a Spark job of N tasks: 5 s of task
        # scheduling for a listing the driver does in milliseconds. The driver lists them itself.
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
        # VACUUM lists a table's directories with a Spark job of this many tasks (default 10,000): 17-43 s per table
        # of kilobytes on 2 cores, against 1.6 s with 2 tasks. The table maintenance job vacuums every table.
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
        # Interpreted, not generated code: on tables of kilobytes, compiling Java (Janino, whose class lookups scan
        # every jar) costs more than it saves. `npm start -- --once`, 2 cores, runs and insights: 107-109 s with
        # codegen (2 runs), 73-94 s without (3 runs), same rows and insights.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        # FAIR when one driver serves several local clusters' tasks at once (the emulator's cluster driver).
        .config("spark.scheduler.mode", os.environ.get("ORBITER_SPARK_SCHEDULER_MODE", "FIFO"))
    )
    for key, value in DELTA_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def configure_run(spark: SparkSession) -> None:
    """Settings every notebook relies on (UTC timestamps), safe on Databricks too."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ
