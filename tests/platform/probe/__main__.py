import sys

from service_runtime.cli import main
from tests.platform.probe.service import service

sys.exit(main(service))
