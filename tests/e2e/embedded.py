"""``make run`` as a subprocess, for end-to-end tests: its own var folder, broker port and service ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import httpx

from steadfast_shared.embedded.broker import port_is_free
from steadfast_shared.embedded.runner import (
    BROKER_PORT_ENV,
    DEMO_ENV,
    PORT_OFFSET_ENV,
    VAR_DIR_ENV,
    InstalledService,
    token,
)
from steadfast_shared.testing.helpers import TEST_SESSION_TIMEOUT_MS, wait_until

Stop = Literal["sigterm", "sigkill"]


# --------------------------------------------------------------------------------------------------


def _pick_ports(services: list[InstalledService]) -> tuple[int, int]:
    """A free broker port, and a port offset that puts every service on a free port.

    The ports are below Linux's ephemeral range (32768 and up), so that no outgoing connection made
    meanwhile (the writers', the consumer's) can take one of them while the runner restarts.
    """
    rng = random.Random()
    lowest = min(s.definition.port for s in services)
    highest = max(s.definition.port for s in services)
    for _ in range(200):
        broker = rng.randrange(20_000, 32_000)
        offset = rng.randrange(20_000, 32_000 - (highest - lowest)) - lowest
        ports = [s.definition.port + offset for s in services]
        if broker not in ports and all(port_is_free(p) for p in [broker, *ports]):
            return broker, offset
    raise AssertionError("no free ports for the broker and the services")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``): the runner's services and broker."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


class EmbeddedRun:
    """The embedded runner (``make run``) as a subprocess, on its own var folder and ports."""

    def __init__(self, var_dir: Path, services: list[InstalledService]) -> None:
        self.var_dir = var_dir
        self.services = services
        self.broker_port, self.port_offset = _pick_ports(services)
        self.output = var_dir.parent / "runner-output.txt"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {k: v for k, v in os.environ.items() if not any(k.startswith(s.prefix) for s in services)}
        self.env.update(
            {
                VAR_DIR_ENV: str(var_dir),
                DEMO_ENV: "0",  # these tests bring records of their own
                BROKER_PORT_ENV: str(self.broker_port),
                PORT_OFFSET_ENV: str(self.port_offset),
            }
        )
        # The services' consumers join their groups as in the tests' in-process services: the broker
        # holds a join for half the session timeout (5 s of the default 10 s).
        self.env.update(
            {f"{s.prefix}CONSUMER_SESSION_TIMEOUT_MS": str(TEST_SESSION_TIMEOUT_MS) for s in services}
        )

    def url(self, service: str) -> str:
        port = next(s.definition.port for s in self.services if s.name == service) + self.port_offset
        return f"http://127.0.0.1:{port}"

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    def token(self) -> str:
        """What ``make token`` prints for this var folder."""
        return token({VAR_DIR_ENV: str(self.var_dir)})

    def start(self) -> None:
        with self.output.open("ab") as out:
            out.write(b"\n=== starting the runner ===\n")
            self.process = subprocess.Popen(
                [sys.executable, "-m", "steadfast_shared.embedded.runner", "run"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every service answers ``/readyz`` (the runner printed its table by then, or nearly)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            for s in self.services:
                while True:
                    assert self.process is not None
                    if self.process.poll() is not None:
                        raise AssertionError(
                            f"the runner exited with {self.process.returncode}:\n{self.log()}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{self.url(s.name)}/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{s.name} not ready after {timeout}s:\n{self.log()}")
                    await asyncio.sleep(0.1)

    async def stop(self, how: Stop) -> int:
        """Stop the runner: SIGTERM (Ctrl-C's path), or SIGKILL of it and all its processes at once."""
        process = self.process
        assert process is not None
        if how == "sigterm":
            process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, 60)
        else:
            victims = [*_descendants(process.pid), process.pid]
            for pid in victims:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            code = await asyncio.to_thread(process.wait, 30)
            await wait_until(
                lambda: not any(_alive(pid) for pid in victims), timeout=15, message="killed processes gone"
            )
        await wait_until(
            lambda: (
                port_is_free(self.broker_port)
                and all(port_is_free(int(self.url(s.name).rsplit(":", 1)[1])) for s in self.services)
            ),
            timeout=15,
            message="the runner's ports free again",
        )
        self.process = None
        return code

    def kill_everything(self) -> None:
        """Cleanup after a failure: no process of this runner outlives the test."""
        if self.process is None:
            return
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        self.process = None

    def log(self, lines: int = 60) -> str:
        parts = []
        for path in [self.output, *sorted((self.var_dir / "log").glob("*.log"))]:
            with contextlib.suppress(OSError):
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(parts)
