import sys

from recognition.definition import service
from service_runtime.cli import main as run


def main() -> None:
    sys.exit(run(service))


if __name__ == "__main__":
    main()
