"""`python -m routing.simulate`: the routing engine on a simulated clock; a report as JSON.

    python -m routing.simulate --agents 12 --arrival-rate 200 --aht 180 --hours 8 --seed 7
    python -m routing.simulate --config deploy/simulation.json --seed 3

Service level, ASA, AHT, abandonment and occupancy follow the formulas of the KPI brief.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from routing.simulation.run import simulate
from routing.simulation.scenario import AgentGroup, Scenario

app = typer.Typer(add_completion=False)


@app.command()
def main(
    config: Annotated[Path | None, typer.Option(help="Scenario file (JSON)")] = None,
    agents: Annotated[int | None, typer.Option(help="Agents, all with the default skills")] = None,
    arrival_rate: Annotated[float | None, typer.Option(help="Calls per hour")] = None,
    aht: Annotated[float | None, typer.Option(help="Mean handle time in seconds")] = None,
    hours: Annotated[float | None, typer.Option(help="Hours of arrivals")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same result")] = None,
    patience: Annotated[float | None, typer.Option(help="Mean patience in seconds")] = None,
) -> None:
    """Simulate the call center and print its KPIs as JSON."""
    raw: dict[str, Any] = orjson.loads(config.read_bytes()) if config else {}
    overrides = {
        "arrival_rate": arrival_rate,
        "aht_s": aht,
        "hours": hours,
        "seed": seed,
        "patience_s": patience,
    }
    raw |= {key: value for key, value in overrides.items() if value is not None}
    scenario = Scenario.model_validate(raw)
    if agents is not None:
        groups = scenario.agents or [AgentGroup(count=agents)]
        scenario = scenario.model_copy(
            update={"agents": [groups[0].model_copy(update={"count": agents})]}
        )
    report = simulate(scenario)
    typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    app()
