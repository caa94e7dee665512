"""The four services as real processes, for the fault tests: each ``python -m steadfast_<service> serve``
on its own port and database, one service's outbox relay as a process of its own
(``python -m steadfast_caseload relay``, so that it can be killed alone), and a CLI command run the way an
operator runs it (``republish``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from steadfast_shared.auth import ALL_SCOPES, mint_local_token
from steadfast_shared.embedded.broker import free_port
from steadfast_shared.embedded.runner import InstalledService, discover_services

SERVICES = ("staff", "caseload", "audit", "metrics")


@dataclass
class Process:
    """One child process (a service, or the relay alone), its output appended to ``log_file``."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_file: Path
    port: int | None = None
    starts: int = 0
    kills: int = 0
    _process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None, f"{self.name} is not running"
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is running"
        self._log = self.log_file.open("ab")
        self._log.write(f"\n--- {time.strftime('%H:%M:%S')} {shlex.join(self.command)}\n".encode())
        self._log.flush()
        self._process = subprocess.Popen(
            self.command,
            env={**self.env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an out-of-memory kill."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait(30)
        self._process = None
        self.kills += 1
        self._close_log()

    def terminate(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._process = None
        self._close_log()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until ``/readyz`` answers 200 (the database and the broker reachable)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if not self.alive:
                    raise AssertionError(f"{self.name} exited:\n{self.log()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not ready after {timeout}s:\n{self.log()}")
                await asyncio.sleep(0.2)

    def log(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
            return f"--- {self.log_file.name} ---\n" + "\n".join(tail)
        return ""

    def _close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()


class Platform:
    """Staff, caseload, audit and metrics as processes on the given databases and broker."""

    def __init__(
        self, root: Path, databases: dict[str, str], bootstrap_servers: str, *, relay_alone: str = "caseload"
    ) -> None:
        self.root = root
        self.databases = databases
        self.bootstrap_servers = bootstrap_servers
        self.secret = f"fault-tests-{uuid.uuid4().hex}"
        installed = {s.name: s for s in discover_services()}
        assert set(SERVICES) <= set(installed), sorted(installed)
        self.services: dict[str, InstalledService] = {name: installed[name] for name in SERVICES}
        self.processes: dict[str, Process] = {}
        for name, service in self.services.items():
            env = self.env(name)
            if name == relay_alone:
                env[f"{service.prefix}RELAY_ENABLED"] = "false"
            port = free_port()
            self.processes[name] = Process(
                name=name,
                command=[
                    sys.executable,
                    "-m",
                    service.package,
                    "serve",
                    "--no-migrate",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                log_file=root / f"{name}.log",
                port=port,
            )
        #: The outbox relay of ``relay_alone``, as a process of its own.
        #: Small batches, so that a kill lands between the batches of one backlog too.
        self.relay = Process(
            name=f"{relay_alone}-relay",
            command=[sys.executable, "-m", self.services[relay_alone].package, "relay"],
            env={**self.env(relay_alone), f"{self.services[relay_alone].prefix}RELAY_BATCH_SIZE": "20"},
            log_file=root / f"{relay_alone}-relay.log",
        )

    def env(self, name: str) -> dict[str, str]:
        """The environment of one service's processes: its settings, and nobody else's."""
        prefixes = tuple(s.prefix for s in self.services.values())
        p = self.services[name].prefix
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env.update(
            {
                f"{p}ENVIRONMENT": "test",
                f"{p}DATABASE_URL": self.databases[name],
                f"{p}DATABASE_POOL_SIZE": "5",
                f"{p}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
                f"{p}RELAY_POLL_INTERVAL_SECONDS": "0.05",
                f"{p}JWT_SECRET": self.secret,
                f"{p}LOG_JSON": "false",
                # The loader here is one client posting a council's extracts as fast as it can.
                f"{p}RATE_LIMIT_IMPORTS_PER_MINUTE": "0",
            }
        )
        return env

    def token(self) -> str:
        return mint_local_token(self.secret, scopes=ALL_SCOPES, subject="fault-tests")

    def url(self, name: str) -> str:
        return self.processes[name].url

    async def start(self) -> None:
        for process in [*self.processes.values(), self.relay]:
            process.start()
        for process in self.processes.values():
            await process.wait_ready()

    def run_command(self, name: str, *args: str) -> str:
        """``python -m steadfast_<name> <args>`` as an operator runs it; returns what it printed."""
        result = subprocess.run(
            [sys.executable, "-m", self.services[name].package, *args],
            env=self.env(name),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return result.stdout.decode()

    def stop(self) -> None:
        for process in [self.relay, *self.processes.values()]:
            with contextlib.suppress(Exception):
                process.terminate()

    def logs(self) -> str:
        return "\n".join(p.log() for p in [*self.processes.values(), self.relay])
