"""The dashboard's files: its own page, script and styles (`analytics/static`), and Plotly's
`plotly.min.js` read from the installed `plotly` package (nothing copied into the repository,
nothing loaded from a CDN).

Plotly's file is named with its version, so a browser may keep it for a year: another version
is another name. Each asset is read once and kept, with its gzip form for clients that accept it.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import metadata, resources
from pathlib import Path

PLOTLY_VERSION = metadata.version("plotly")
PLOTLY_ASSET = f"plotly-{PLOTLY_VERSION}.min.js"
PLOTLY_FILE = "plotly/package_data/plotly.min.js"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
OWN_FILES = {
    "dashboard.js": "text/javascript",
    "dashboard-charts.js": "text/javascript",
    "dashboard-format.js": "text/javascript",
    "dashboard.css": "text/css",
}
ASSET_NAMES = frozenset({*OWN_FILES, PLOTLY_ASSET})


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    cache_control: str

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=6, mtime=0)


@cache
def asset(name: str) -> Asset:
    """The asset of that name (one of `ASSET_NAMES`); KeyError for any other."""
    if name == PLOTLY_ASSET:
        return Asset(plotly_path().read_bytes(), "text/javascript", IMMUTABLE)
    media_type = OWN_FILES[name]
    return Asset(_static(name).encode(), media_type, REVALIDATE)


def plotly_path() -> Path:
    """`plotly.min.js` where pip or uv installed the `plotly` distribution."""
    return Path(str(metadata.distribution("plotly").locate_file(PLOTLY_FILE)))


@cache
def page() -> str:
    """The page, naming this Plotly version's asset."""
    return _static("dashboard.html").replace("{plotly}", PLOTLY_ASSET)


def _static(name: str) -> str:
    return (resources.files("analytics") / "static" / name).read_text(encoding="utf-8")
