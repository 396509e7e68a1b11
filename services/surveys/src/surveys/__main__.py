from callcenter_service import serve

from surveys.app import create_app
from surveys.settings import SurveysSettings

if __name__ == "__main__":
    serve(create_app, SurveysSettings())
