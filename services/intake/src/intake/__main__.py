from callcenter_service import serve

from intake.app import create_app
from intake.settings import IntakeSettings

if __name__ == "__main__":
    serve(create_app, IntakeSettings())
