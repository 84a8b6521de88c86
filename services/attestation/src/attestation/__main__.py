import sys

from service_runtime.cli import main as run

from attestation.definition import service


def main() -> None:
    sys.exit(run(service))


if __name__ == "__main__":
    main()
