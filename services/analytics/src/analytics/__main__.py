"""`python -m analytics` runs the service; `python -m analytics projections ...` the CLI."""

import sys

from callcenter_service import serve

from analytics.app import create_app
from analytics.settings import AnalyticsSettings

if __name__ == "__main__":
    if sys.argv[1:2] == ["projections"]:
        from analytics.cli import app

        app(args=sys.argv[2:], prog_name="python -m analytics projections")
    else:
        serve(create_app, AnalyticsSettings())
