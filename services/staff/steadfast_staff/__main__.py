from steadfast_shared.cli import main_for
from steadfast_staff.bootstrap import definition


def main() -> None:
    main_for(definition)


if __name__ == "__main__":
    main()
