"""A private PostgreSQL cluster for the fault tests, which restart it: the shared test server at
127.0.0.1:5432 serves every other test and engineer, and must never be restarted.

The cluster is made with this machine's server binaries (``initdb``, ``pg_ctl``) in a temporary folder,
listens on a free loopback port with trust authentication, and is stopped and deleted at the end. The
server refuses to run as root, so under root it runs as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from steadfast_shared.embedded.broker import free_port

INSTALL_HINT = (
    "the fault tests run a PostgreSQL server of their own and need its binaries (initdb, pg_ctl): "
    "install them, e.g. `apt-get install -y postgresql` (Debian, Ubuntu) or `brew install postgresql` "
    "(macOS), or put the folder holding pg_ctl on PATH"
)

RestartMode = Literal["fast", "immediate"]


class PostgresBinariesMissing(RuntimeError):
    """``initdb`` or ``pg_ctl`` cannot be found on this machine."""


def server_binaries() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: the one on PATH, else the newest Debian install."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresBinariesMissing(INSTALL_HINT)


class PrivatePostgres:
    """One PostgreSQL cluster in a temporary folder, on a free port: start, restart, stop."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="steadfast-faults-pg-"))
        self.data = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = free_port()
        self.restarts = 0
        self._user = _unprivileged_user()
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)

    @property
    def url(self) -> str:
        """A SQLAlchemy async URL to the cluster's ``postgres`` database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Create the cluster (the first time) and start the server; returns once it accepts connections."""
        if not self.data.exists():
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
            )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-o", options, "-w", "start")

    def restart(self, mode: RestartMode = "immediate") -> None:
        """Restart the server: ``immediate`` is a crash (recovery from the WAL), ``fast`` a clean stop."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_file), "-m", mode, "-w", "restart")
        self.restarts += 1

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        # Output to a file, not a pipe: a server started by pg_ctl keeps its parent's descriptors open.
        output = self.root / "commands.log"
        with output.open("ab") as out:
            result = subprocess.run(
                command,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
                user=None if self._user is None else self._user.pw_uid,
                group=None if self._user is None else self._user.pw_gid,
            )
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited with {result.returncode}:\n"
                f"{output.read_text(errors='replace')[-2000:]}\n--- server log ---\n{self.log()}"
            )


def _unprivileged_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresBinariesMissing(
            "PostgreSQL refuses to run as root and there is no `postgres` user to run it as: run the "
            "tests as another user, or create one (`useradd --system postgres`)"
        ) from None
