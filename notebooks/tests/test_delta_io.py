"""Delta write-conflict retries (no Spark: the write is a plain callable)."""

from __future__ import annotations

import pytest

from orbiter_lake import delta_io

CONFLICT = (
    "An error occurred while calling o7154.save.\n: io.delta.exceptions.ProtocolChangedException: "
    "[DELTA_PROTOCOL_CHANGED] The protocol version of the Delta table has been changed by a concurrent update."
)


class Flaky:
    def __init__(self, failures: list[Exception]):
        self.failures = failures
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def test_a_conflicting_commit_is_retried_until_it_succeeds() -> None:
    sleeps: list[float] = []
    write = Flaky([RuntimeError(CONFLICT), RuntimeError("ConcurrentAppendException: files were added")])
    delta_io.retry_conflicts(write, sleep=sleeps.append)
    assert write.calls == 3
    assert len(sleeps) == 2 and 0 < sleeps[0] <= sleeps[1] * 2


def test_other_errors_are_not_retried() -> None:
    write = Flaky([ValueError("AnalysisException: column `x` does not exist")])
    with pytest.raises(ValueError, match="does not exist"):
        delta_io.retry_conflicts(write, sleep=lambda _s: None)
    assert write.calls == 1


def test_conflicts_give_up_after_the_last_attempt() -> None:
    write = Flaky([RuntimeError(CONFLICT) for _ in range(3)])
    with pytest.raises(RuntimeError, match="DELTA_PROTOCOL_CHANGED"):
        delta_io.retry_conflicts(write, attempts=3, sleep=lambda _s: None)
    assert write.calls == 3
