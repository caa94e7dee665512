"""Running a benchmark's child processes with another checkout's packages, to compare two versions of
the code in one run (``--code DIR`` / ``--live-code DIR`` of the benchmarks that offer it)."""

from __future__ import annotations

import os
from pathlib import Path


def pythonpath(checkout: Path) -> str:
    """``PYTHONPATH`` putting ``checkout``'s packages (its ``shared/`` and each ``services/*``) before the
    ones the virtual environment installed."""
    paths = [checkout, checkout / "shared", *sorted((checkout / "services").iterdir())]
    return os.pathsep.join(str(p) for p in paths)


def environment(checkout: Path | None) -> dict[str, str]:
    """This process's environment, with ``checkout``'s packages first (None: unchanged)."""
    if checkout is None:
        return dict(os.environ)
    return {**os.environ, "PYTHONPATH": pythonpath(checkout.resolve())}
