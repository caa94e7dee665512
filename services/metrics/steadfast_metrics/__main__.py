from steadfast_metrics.bootstrap import definition
from steadfast_shared.cli import main_for


def main() -> None:
    main_for(definition)


if __name__ == "__main__":
    main()
