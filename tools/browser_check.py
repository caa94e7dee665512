"""`make test` needs a Chromium for the browser tests (tests/browser): Debian's `chromium` package, or
the executable that STEADFAST_CHROMIUM names. Without one, `make test` stops here with the command that
installs it (it never skips the browser tests).

    python -m tools.browser_check
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

#: Where the browser tests look for Chromium, in order (the first that exists).
CANDIDATES = ("chromium", "chromium-browser")
ENV = "STEADFAST_CHROMIUM"
INSTALL = (
    "sudo apt-get install -y chromium   # Debian and Ubuntu; or set STEADFAST_CHROMIUM=/path/to/chromium"
)


def chromium() -> Path | None:
    """The Chromium executable the browser tests drive, or None."""
    named = os.environ.get(ENV)
    if named:
        path = Path(named)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    return None


def main() -> int:
    found = chromium()
    if found is None:
        named = os.environ.get(ENV)
        where = f"{ENV}={named} is not an executable file" if named else "no chromium on PATH"
        print(
            f"The browser tests need Chromium ({where}). Install it with:\n\n    {INSTALL}\n", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
