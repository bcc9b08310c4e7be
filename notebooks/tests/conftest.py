import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # notebooks/ -> orbiter_lake

from helpers import land_fixtures  # noqa: E402
from orbiter_lake import bronze, gold, silver  # noqa: E402
from orbiter_lake.lake import SOURCES  # noqa: E402
from orbiter_lake.spark_session import local_spark  # noqa: E402


@pytest.fixture(scope="session")
def spark():
    """One local Spark + Delta session for the whole test run (2 cores, UI off, 2 shuffle partitions)."""
    session = local_spark("orbiter-tests")
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path):
    return str(tmp_path / "lake")


@pytest.fixture(scope="session")
def fixture_lake(spark, tmp_path_factory):
    """A lake with every fixture landed and bronze -> silver -> gold run once for every source, plus one raw file
    that is not JSON (to check quarantine)."""
    root = str(tmp_path_factory.mktemp("fixture_lake") / "lake")
    land_fixtures(root)
    from helpers import land

    land(root, "donki", "FLR", "2024-06-01", "2024-06-30", b"{not json")
    for source in SOURCES:
        bronze.run_bronze(spark, root, source, "batch")
        silver.run_silver(spark, root, source)
        gold.run_gold(spark, root, source)
    return root
