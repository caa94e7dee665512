"""`make audit`: pip-audit over every version pinned in uv.lock, against the vendored advisory snapshot.

pip-audit does the auditing (reading the requirements, asking a vulnerability service about each pin,
`--strict`: a pin it cannot audit fails the run). The service it asks is an OSV query endpoint served
here, on 127.0.0.1, from `security/advisories/pypi.json` (see `tools/advisories.py`): the machines this
project is built on reach no vulnerability service, and `make test` reads nothing outside the
repository. `--online` asks pip-audit's default service (PyPI's JSON API) instead, where the network
allows.

    python -m tools.dependency_audit REQUIREMENTS [--online] [-- extra pip-audit options]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.advisories import SNAPSHOT, Snapshot, load


def _handler(snapshot: Snapshot) -> type[BaseHTTPRequestHandler]:
    class OsvQuery(BaseHTTPRequestHandler):
        """``POST /v1/query`` as OSV answers it: the advisories affecting one version of one package."""

        def do_POST(self) -> None:
            if self.path != "/v1/query":
                self.send_error(404)
                return
            try:
                query = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                package, version = query["package"]["name"], query["version"]
            except (ValueError, KeyError, TypeError):
                self.send_error(400, "a query is {package: {name, ecosystem}, version}")
                return
            if not snapshot.covers(package):
                # A package the snapshot was not made for cannot be said to be safe.
                self.send_error(409, f"the advisory snapshot does not cover {package}: refresh it")
                return
            vulns = snapshot.affecting(package, version)
            body = json.dumps({"vulns": vulns} if vulns else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return OsvQuery


@contextmanager
def osv_endpoint(snapshot: Snapshot) -> Iterator[str]:
    """A local OSV query endpoint answering from ``snapshot``; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(snapshot))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


def pip_audit(requirements: Path, options: list[str], cache_dir: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "pip_audit", "--strict", "--disable-pip", "--progress-spinner", "off"]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    return [*command, "-r", str(requirements), *options]


def audit(requirements: Path, *, online: bool = False, extra: list[str] | None = None) -> int:
    """Run pip-audit over ``requirements``; its exit status (0: nothing known affects a pin)."""
    extra = list(extra or [])
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    if online:
        return subprocess.call(pip_audit(requirements, extra), env=env)
    snapshot = load()
    print(
        f"make audit: against the advisory snapshot {SNAPSHOT.name} of {snapshot.source['repository']} "
        f"(commit {snapshot.source['commit'][:12]}, {snapshot.source.get('date', 'date unknown')}); "
        "`make audit-online` asks PyPI instead",
        file=sys.stderr,
    )
    with osv_endpoint(snapshot) as url:
        # No cache: the answers come from the snapshot, which a refresh changes.
        return subprocess.call(
            pip_audit(requirements, ["--vulnerability-service", "osv", "--osv-url", url, *extra]), env=env
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.dependency_audit", description=__doc__.splitlines()[0]
    )
    parser.add_argument("requirements", type=Path, help="the pinned requirements (uv export of uv.lock)")
    parser.add_argument("--online", action="store_true", help="ask PyPI's JSON API, not the snapshot")
    parser.add_argument("extra", nargs="*", help="more pip-audit options, after --")
    arguments = parser.parse_args(argv)
    return audit(arguments.requirements, online=arguments.online, extra=arguments.extra)


if __name__ == "__main__":
    sys.exit(main())
