"""The evaluation harness end to end on a tiny world: its invariants, not the recall targets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evaluation.__main__ import main
from evaluation.world import Kind, WorldConfig, generate

pytestmark = pytest.mark.e2e


def test_a_world_replays_from_its_seed_and_differs_across_seeds() -> None:
    a1, a2 = (generate(WorldConfig(seed=3, scale=0.02), end=1.8e9) for _ in range(2))
    b = generate(WorldConfig(seed=4, scale=0.02), end=1.8e9)
    assert a1.summary() == a2.summary() and a1.drawn == a2.drawn and sorted(a1.truth) == sorted(a2.truth)
    assert a1.drawn != b.drawn
    # the ground truth has every kind, attack targets are legitimate, and calls lie in the window
    assert all(a1.count(k) > 0 for k in Kind)
    assert all(t.legitimate for t in a1.truth.values() if t.attack)
    assert all(a1.start <= c.start <= a1.end for c in a1.calls)
    assert all(r.occurred_at <= a1.end for r in a1.reports)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tiny world through a fresh platform, by the command line, with its JSON figures."""
    tmp = tmp_path_factory.mktemp("eval")
    path = tmp / "eval.json"
    assert (
        main(
            [
                "--seed",
                "11",
                "--scale",
                "0.02",
                "--live-timeout",
                "20",
                "--json",
                str(path),
                "--data-dir",
                str(tmp / "platform"),
            ]
        )
        == 0
    )
    data: dict[str, Any] = json.loads(path.read_text())
    data["by_name"] = {f["name"]: f for f in data["figures"]}
    return data


def test_every_number_is_looked_up_and_the_figures_computed(result: dict[str, Any]) -> None:
    verdicts, world = result["verdicts"], result["world"]
    assert sum(verdicts.values()) == sum(world[k.value] for k in Kind)
    assert not any(v.startswith("ERROR") for v in verdicts)
    figures = result["by_name"]
    for name in (
        "spammers flagged (LABEL or BLOCK)",
        "legitimate numbers flagged (not attack targets)",
        "protected numbers blocked",
        "attack targets blocked",
        "attack targets held at LABEL",
    ):
        assert figures[name]["value"] is not None, name
    assert "time to LABEL, median" in figures


def test_what_the_platform_implements_is_accepted(result: dict[str, Any]) -> None:
    feed = result["feed"]
    for kind in ("registry rows", "reports"):
        assert feed[kind]["accepted"] == feed[kind]["sent"], (kind, feed[kind])


def test_protected_numbers_are_never_blocked(result: dict[str, Any]) -> None:
    assert result["by_name"]["protected numbers blocked"]["value"] == 0


def test_attack_targets_are_never_blocked(result: dict[str, Any]) -> None:
    assert result["by_name"]["attack targets blocked"]["value"] == 0
