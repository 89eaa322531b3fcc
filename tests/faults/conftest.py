"""Fault tests stop and kill parts of a pipeline of their own, on a private broker they may stop.

One broker serves the whole tier; every test gets a fresh pipeline (its own topics, Redis prefix, ports
and subscribers) on it, so each fault's measurements are its own. The summary table of every fault and
its outcome is printed at the end of the run and written to test-artifacts/faults-summary.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.faults import summary
from tests.faults.harness import ARTIFACTS, FaultRun
from tests.support.broker import PrivateBroker


@pytest.fixture(scope="session")
def private_broker(tmp_path_factory) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path_factory.mktemp("broker"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def fault_run(private_broker, tmp_path) -> Iterator[Callable[..., FaultRun]]:
    """Start a fault run (pipeline, subscribers, sender); its summary row is kept whatever happens."""
    runs: list[FaultRun] = []

    def start(fault: str, seed: int, **kwargs) -> FaultRun:
        run = FaultRun(fault, private_broker, tmp_path / "pipeline", seed, **kwargs)
        runs.append(run)
        summary.ROWS.append(run.row)
        return run.start()

    yield start
    for run in runs:
        run.close(keep_logs=run.row.outcome != "PASS")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001 (pytest hook)
    if not summary.ROWS:
        return
    terminalreporter.write_sep("=", "fault tier summary")
    for line in summary.text(summary.ROWS):
        terminalreporter.write_line(line)
    path = ARTIFACTS / "faults-summary.md"
    summary.write(summary.ROWS, path)
    terminalreporter.write_line(f"(also in {path.relative_to(ARTIFACTS.parent)})")
