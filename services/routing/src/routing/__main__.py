from callcenter_service import serve

from routing.app import create_app
from routing.settings import RoutingSettings

if __name__ == "__main__":
    serve(create_app, RoutingSettings())
