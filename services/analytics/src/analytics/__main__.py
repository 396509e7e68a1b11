from callcenter_service import serve

from analytics.app import create_app
from analytics.settings import AnalyticsSettings

if __name__ == "__main__":
    serve(create_app, AnalyticsSettings())
