"""The simulator against queueing theory, and its repeatability."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest
from routing.simulate import app
from routing.simulation.run import simulate
from routing.simulation.scenario import AgentGroup, Scenario
from typer.testing import CliRunner


def erlang_c(agents: int, load: float) -> float:
    """The probability that a call waits in an M/M/N queue offered `load` Erlangs."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def test_without_abandonment_it_matches_erlang_c() -> None:
    agents, aht, rate, threshold = 5, 180.0, 80.0, 20.0  # 4 Erlangs on 5 agents
    scenario = Scenario(
        agents=[AgentGroup(count=agents)],
        arrival_rate=rate,
        aht_s=aht,
        wrap_up_share=0.0,
        hours=400,
        patience_s=None,
        answer_delay_s=0.0,
        service_level_threshold_s=threshold,
        seed=11,
    )
    load = rate * aht / 3600
    waits = erlang_c(agents, load)
    expected_sl = 1 - waits * math.exp(-(agents - load) * threshold / aht)
    expected_asa = waits * aht / (agents - load)
    report = simulate(scenario)
    assert report["abandoned"] == 0
    assert report["service_level"] == pytest.approx(expected_sl, abs=0.03)
    assert report["asa_s"] == pytest.approx(expected_asa, rel=0.2)
    assert report["occupancy"] == pytest.approx(load / agents, abs=0.02)
    assert report["aht_s"] == pytest.approx(aht, rel=0.05)


def test_impatient_callers_abandon_and_service_level_counts_them() -> None:
    base = Scenario(agents=[AgentGroup(count=3)], arrival_rate=90, aht_s=180, hours=50, seed=3)
    patient = simulate(base.model_copy(update={"patience_s": None}))
    impatient = simulate(base.model_copy(update={"patience_s": 30.0}))
    assert patient["abandoned"] == 0
    assert impatient["abandoned"] > 0
    assert impatient["abandonment_rate"] > 0
    assert impatient["asa_s"] < patient["asa_s"], "those who would wait longest hang up"


def test_the_same_seed_gives_the_same_report_and_another_seed_another() -> None:
    scenario = Scenario(agents=[AgentGroup(count=4)], arrival_rate=100, hours=4, seed=5)
    assert simulate(scenario) == simulate(scenario)
    assert simulate(scenario) != simulate(scenario.model_copy(update={"seed": 6}))


def test_the_command_reads_a_scenario_file_and_flags_override_it(tmp_path: Path) -> None:
    config = tmp_path / "scenario.json"
    config.write_bytes(
        orjson.dumps(
            {
                "agents": [{"count": 3, "skills": {"lang:de": 5, "topic:billing": 8}}],
                "calls": [{"language": "de", "topic": "billing"}],
                "policy": {"selection": "best_skill", "escalation": [{"after_s": 30}]},
                "hours": 2,
            }
        )
    )
    args = ["--config", str(config), "--agents", "6", "--arrival-rate", "120", "--seed", "9"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert (report["agents"], report["arrival_rate"], report["seed"]) == (6, 120.0, 9)
    assert report["offered"] > 0
    for name in ("service_level", "asa_s", "abandonment_rate", "occupancy"):
        assert report[name] is not None
