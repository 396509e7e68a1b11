"""`python -m analytics projections list|status|rebuild`: the builds of the projections, by hand.

Reads the same settings as the service (`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, ...). A rebuild
runs here, in this process, beside the running service, which keeps answering from the live build
until the swap. Stopping it (Ctrl-C, or a kill) is safe: run it again and it resumes.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

import typer
from callcenter_events.store import in_db_thread, make_engine, make_sqlite_folder
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from analytics import catalog
from analytics.builds import Build
from analytics.rebuild import Progress as BuildProgress
from analytics.rebuild import rebuild as run_rebuild
from analytics.registry import PROJECTIONS
from analytics.running import LogEnds
from analytics.settings import AnalyticsSettings
from analytics.status import build_status
from analytics.supervisor import Projections

app = typer.Typer(help="Projections of the analytics service: list, status, rebuild.")
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document instead of a table")]


@app.command("list")
def list_projections(as_json: JsonOption = False) -> None:
    """The registered projections: name, versions in this code, and the live build."""
    rows = asyncio.run(_registered())
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("name", "versions in code", "live build")
    for row in rows:
        table.add_row(row["name"], ", ".join(map(str, row["versions"])), row["live"] or "-")
    console.print(table)


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Every live and unfinished build: state, position (events read) and lag."""
    rows = asyncio.run(_status())
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("name", "version", "generation", "state", "position", "lag", "live since")
    for row in rows:
        cells = [row[k] for k in ("name", "version", "generation", "state", "position", "lag")]
        table.add_row(*(str(cell) for cell in cells), row["live_at"] or "-")
    console.print(table)


@app.command()
def rebuild(
    name: Annotated[str, typer.Argument(help="The projection to build anew")],
    restart: Annotated[
        bool, typer.Option(help="Drop an unfinished build of it and start from zero")
    ] = False,
) -> None:
    """Build NAME from offset zero in new tables and swap it in once caught up."""
    known = Projections(PROJECTIONS).versions
    if name not in known:
        console.print(f"[red]no projection {name!r}[/red]; known: {', '.join(sorted(known))}")
        raise typer.Exit(2)
    build = asyncio.run(_rebuild(name, restart))
    console.print(f"{build} is live")


async def _rebuild(name: str, restart: bool) -> Build:
    settings = AnalyticsSettings()
    make_sqlite_folder(settings.database_url)
    engine = make_engine(settings.database_url)
    with _progress_bar() as bar:
        task = bar.add_task(name, total=None, rate="-", lag="-")
        meter = _Rate()

        def show(build: Build, done: BuildProgress) -> None:
            rate = meter.rate(done.position)
            bar.update(
                task,
                description=str(build),
                completed=done.position,
                total=done.total,
                rate=f"{rate:,.0f}",
                lag=f"{done.lag:,}",
            )

        return await run_rebuild(
            engine, settings, PROJECTIONS, name, restart=restart, on_progress=show
        )


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s, lag {task.fields[lag]}"),
        TimeRemainingColumn(),
        console=console,
    )


class _Rate:
    """Events per second over the last few seconds."""

    def __init__(self) -> None:
        self._samples: list[tuple[float, int]] = []

    def rate(self, position: int) -> float:
        now = time.monotonic()
        self._samples = [s for s in self._samples if now - s[0] <= 5.0] + [(now, position)]
        (t0, p0), (t1, p1) = self._samples[0], self._samples[-1]
        return (p1 - p0) / (t1 - t0) if t1 > t0 else 0.0


async def _registered() -> list[dict[str, Any]]:
    settings = AnalyticsSettings()
    engine = make_engine(settings.database_url)
    await in_db_thread(engine, catalog.create_catalog, engine)
    rows = []
    for name, versions in sorted(Projections(PROJECTIONS).versions.items()):
        live = await in_db_thread(engine, catalog.live_build, engine, name)
        rows.append({"name": name, "versions": sorted(versions), "live": live and str(live)})
    return rows


async def _status() -> list[dict[str, Any]]:
    settings = AnalyticsSettings()
    engine = make_engine(settings.database_url)
    await in_db_thread(engine, catalog.create_catalog, engine)
    ends = LogEnds(settings.kafka_bootstrap_servers)
    await ends.start()
    try:
        return await build_status(engine, Projections(PROJECTIONS), ends, settings.topic_prefix)
    finally:
        await ends.stop()
