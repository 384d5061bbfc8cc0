"""The Locust scenarios run headless for a few seconds against the running platform."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ROOT, Platform

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The platform on its embedded defaults, with the demo data loaded."""
    p = Platform(tmp_path_factory.mktemp("loadtest"))
    subprocess.run(
        [sys.executable, "-m", "numrep.cli", "demo-data"], env=p.env, cwd=ROOT, check=True, capture_output=True
    )
    p.start_server()
    p.start_worker()
    yield p
    p.stop()


def test_locust_scenarios_run_and_report_every_rpc(embedded: Platform) -> None:
    platform = embedded
    prefix = ROOT / "artifacts" / "locust"
    prefix.parent.mkdir(exist_ok=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "loadtest" / "locustfile.py"),
            "--headless",
            "-u",
            "6",
            "-r",
            "6",
            "--run-time",
            "6s",
            "--stop-timeout",
            "2",
            "--host",
            platform.address,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=platform.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(f"{prefix}_stats.csv") as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    for method in ("/numrep.v1.ReputationService/Lookup", "/numrep.v1.RulesService/GetRules"):
        assert int(stats[method]["Request Count"]) > 0, stats.keys()
        assert int(stats[method]["Failure Count"]) == 0
    assert int(stats["Aggregated"]["Failure Count"]) == 0
