"""The embedded default (SPEC section 6): ``make run`` starts the whole system on one machine.

``python -m steadfast_shared.embedded.runner run`` (what ``make run`` does):

1. makes ``var/`` under the repository root (``STEADFAST_VAR_DIR`` moves it) with ``data/`` (one SQLite
   file per service), ``log/`` (one log per service, and the broker's) and ``secrets/`` (the local HS256
   signing key, generated once);
2. starts the Tansu broker on ``127.0.0.1:9092`` (``STEADFAST_BROKER_PORT`` moves it);
3. for every installed service (the ``steadfast.services`` entry points; nothing here names one):
   fills in its ``<PREFIX>DATABASE_URL``, ``<PREFIX>KAFKA_BOOTSTRAP_SERVERS``, ``<PREFIX>JWT_SECRET_FILE``
   and ``<PREFIX>LOG_JSON`` unless the environment already sets them (the user's environment wins),
   applies its migrations, marks its retained outbox for republishing (the broker keeps nothing across
   restarts, the SQLite files do), and starts ``python -m <package> serve --no-migrate`` on its port
   (``STEADFAST_PORT_OFFSET`` adds to every port; ``STEADFAST_<NAME>_PORT`` sets one);
4. waits until every service answers ``/readyz`` and prints where everything is;
5. on an empty ``var/``, loads the generated demo council (:mod:`steadfast_shared.embedded.demo`) through
   the services' APIs, in the background, and back-fills two years of weekly KPI snapshots; its state file
   ``var/demo-council.json`` says it was loaded (a ``var/`` holding data is never loaded again, and an
   interrupted load is finished at the next start). ``STEADFAST_DEMO=0`` starts empty. While ``var/`` holds
   the demo council, a service whose settings have a ``demo_council`` field is told so.

Ctrl-C or SIGTERM stops the services (SIGTERM, then SIGKILL after a grace period) and then the broker,
and exits 0. A service that dies on its own is reported with the end of its log, everything else is
stopped, and the runner exits 1. A broker that dies is started again on its port, with backoff: the
services keep answering meanwhile (their writes wait in the outboxes, their relays and consumers retry),
and once the new, empty broker is up their retained outboxes are marked for publishing again, as at a
start.

``... runner token`` prints a bearer token with every scope, signed with the local key (``make token``);
``... runner events [TOPIC]`` prints the CloudEvents on a topic of the local broker (or lists topics).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import importlib.metadata
import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx
from fastapi.routing import APIRoute

from steadfast_shared.auth import ALL_SCOPES, ensure_local_secret, mint_local_token
from steadfast_shared.dates import today as local_today
from steadfast_shared.embedded.broker import DEFAULT_HOST, BrokerError, TansuBroker, port_is_free
from steadfast_shared.service import ServiceDefinition

#: The entry-point group every service registers its :class:`ServiceDefinition` under.
ENTRY_POINT_GROUP = "steadfast.services"

VAR_DIR_ENV = "STEADFAST_VAR_DIR"
DEMO_ENV = "STEADFAST_DEMO"
BROKER_PORT_ENV = "STEADFAST_BROKER_PORT"
PORT_OFFSET_ENV = "STEADFAST_PORT_OFFSET"

DEFAULT_BROKER_PORT = 9092
#: How long every service has to answer ``/readyz`` after it was started.
READY_TIMEOUT_SECONDS = 90.0
#: How long a service has to stop after SIGTERM before it is killed (the app's own budget is 15 s).
STOP_TIMEOUT_SECONDS = 25.0
SUPERVISE_INTERVAL_SECONDS = 0.2
#: How long the runner waits before each attempt to start a broker that died (the last one repeats).
BROKER_RESTART_DELAYS_SECONDS = (1.0, 2.0, 5.0, 10.0)
#: A broker that ran this long since its last start counts as healthy again: the backoff starts over.
BROKER_HEALTHY_SECONDS = 60.0


class RunnerError(RuntimeError):
    """Something the user has to fix before the system can start (a port in use, say)."""


class StopRequested(BaseException):
    """Ctrl-C or SIGTERM: stop everything and exit 0."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class ServiceDied(RuntimeError):
    """A service process exited although nobody asked it to."""


# --------------------------------------------------------------------------------------------------
# Where things are
# --------------------------------------------------------------------------------------------------


def repository_root() -> Path:
    """The repository this package runs from (its uv workspace root), else the current directory."""
    here = Path(__file__).resolve()
    for candidate in here.parents:
        if (candidate / "pyproject.toml").is_file() and (candidate / "services").is_dir():
            return candidate
    return Path.cwd()


@dataclass(frozen=True)
class VarLayout:
    """The ``var/`` folder of the embedded default: data, logs and the local signing key."""

    root: Path

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> VarLayout:
        """``$STEADFAST_VAR_DIR`` when set, else ``var/`` under the repository root."""
        environ = os.environ if environ is None else environ
        configured = environ.get(VAR_DIR_ENV)
        root = Path(configured).expanduser() if configured else repository_root() / "var"
        return cls(root.resolve())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "log"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def jwt_key(self) -> Path:
        return self.secrets / "jwt.key"

    @property
    def demo_state(self) -> Path:
        """The demo council's state file: present once the demo council was (or is being) loaded."""
        return self.root / "demo-council.json"

    @property
    def broker_log(self) -> Path:
        return self.logs / "broker.log"

    def database_file(self, service: str) -> Path:
        return self.data / f"{service}.db"

    def service_log(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def create(self) -> None:
        """Make the folders (the secrets folder readable by the owner only) and the signing key."""
        for folder in (self.data, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        self.secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
        ensure_local_secret(self.jwt_key)


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (shorter to read and paste)."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


# --------------------------------------------------------------------------------------------------
# The services
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalledService:
    """A service found under the ``steadfast.services`` entry points, and the package that runs it."""

    definition: ServiceDefinition
    #: The importable package with a ``__main__`` (``python -m <package> serve``).
    package: str

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def prefix(self) -> str:
        return self.definition.env_prefix


def discover_services() -> list[InstalledService]:
    """Every installed service, by port. Fails when two of them claim one name or one port."""
    found: list[InstalledService] = []
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        definition = entry_point.load()
        if not isinstance(definition, ServiceDefinition):
            raise RunnerError(
                f"the entry point {entry_point.name} = {entry_point.value} is not a ServiceDefinition"
            )
        package = entry_point.module.partition(".")[0]
        if importlib.util.find_spec(f"{package}.__main__") is None:
            raise RunnerError(f"the service {definition.name!r} has no {package}/__main__.py to run")
        found.append(InstalledService(definition=definition, package=package))
    found.sort(key=lambda s: (s.definition.port, s.name))
    for attribute in ("name", "port"):
        seen: dict[object, str] = {}
        for service in found:
            value = getattr(service.definition, attribute)
            if value in seen:
                raise RunnerError(
                    f"the services {seen[value]!r} and {service.name!r} share the {attribute} {value}"
                )
            seen[value] = service.name
    return found


def service_port(service: InstalledService, environ: Mapping[str, str]) -> int:
    """``STEADFAST_<NAME>_PORT`` if set, else the service's port plus ``STEADFAST_PORT_OFFSET``."""
    own = environ.get(f"STEADFAST_{service.name.upper()}_PORT")
    if own:
        return _int_setting(f"STEADFAST_{service.name.upper()}_PORT", own)
    return service.definition.port + _int_setting(PORT_OFFSET_ENV, environ.get(PORT_OFFSET_ENV, "0"))


def broker_port(environ: Mapping[str, str]) -> int:
    return _int_setting(BROKER_PORT_ENV, environ.get(BROKER_PORT_ENV, str(DEFAULT_BROKER_PORT)))


def _int_setting(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise RunnerError(f"{name} must be a whole number, not {raw!r}") from None


def service_defaults(
    service: InstalledService, layout: VarLayout, bootstrap: str, *, demo: bool = False
) -> dict[str, str]:
    """The variables the embedded default gives a service (each only where the environment has none).

    With ``demo`` (``var/`` holds the demo council), a service whose settings have a ``demo_council``
    field gets it set, so that it can say the records are generated.
    """
    p = service.prefix
    defaults = {
        f"{p}DATABASE_URL": _own_database_url(service, layout),
        f"{p}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{p}JWT_SECRET_FILE": str(layout.jwt_key),
        f"{p}LOG_JSON": "false",
    }
    if demo and "demo_council" in service.definition.settings_class.model_fields:
        defaults[f"{p}DEMO_COUNCIL"] = "true"
    return defaults


def embedded_environment(definition: ServiceDefinition, environ: Mapping[str, str]) -> dict[str, str]:
    """What a service's own command (``steadfast-metrics check-consistency``, ``rebuild``, ...) run
    beside ``make run`` needs to reach the same ``var/`` and broker: the variables ``make run`` gives the
    service, where the environment moves the embedded default (``STEADFAST_VAR_DIR``,
    ``STEADFAST_BROKER_PORT``) and does not set them itself. Empty otherwise (production sets neither)."""
    if VAR_DIR_ENV not in environ and BROKER_PORT_ENV not in environ:
        return {}
    layout = VarLayout.from_environment(environ)
    bootstrap = f"{DEFAULT_HOST}:{broker_port(environ)}"
    service = InstalledService(definition=definition, package=definition.name)
    return {k: v for k, v in service_defaults(service, layout, bootstrap).items() if k not in environ}


def _own_database_url(service: InstalledService, layout: VarLayout) -> str:
    return f"sqlite+aiosqlite:///{layout.database_file(service.name)}"


@dataclass(frozen=True)
class DemoDecision:
    """Whether this start loads the demo council, and whether ``var/`` holds it."""

    load: bool
    holds_demo: bool
    message: str


def demo_decision(
    layout: VarLayout, environ: Mapping[str, str], services: Sequence[InstalledService]
) -> DemoDecision:
    """The demo council is loaded into an empty ``var/`` (no service database yet, the services on
    ``var/``'s own SQLite files), finished when an earlier load was interrupted, and never loaded into a
    ``var/`` that holds data. ``STEADFAST_DEMO=0`` starts empty."""
    from steadfast_shared.embedded.demo.loader import DemoState

    wanted = environ.get(DEMO_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}
    afresh = f"stop it and `rm -rf {_shown(layout.root)}` to start afresh"
    try:
        state = DemoState.read(layout.demo_state)
    except (ValueError, TypeError, KeyError) as exc:
        raise RunnerError(
            f"{_shown(layout.demo_state)} is not a demo council state file ({exc}); {afresh}"
        ) from None
    if state is not None and state.loaded:
        return DemoDecision(
            False, True, f"demo council: the generated council loaded on {state.loaded_at} ({afresh})"
        )
    if state is not None:
        if not wanted:
            return DemoDecision(
                False,
                True,
                f"demo council: an earlier load was interrupted; start without {DEMO_ENV}=0 to finish it, "
                f"or {afresh}",
            )
        return DemoDecision(True, True, "demo council: finishing the load an earlier start began")
    if not wanted:
        return DemoDecision(False, False, f"demo council: not loaded ({DEMO_ENV}=0)")
    if any(layout.data.glob("*.db")):
        return DemoDecision(False, False, "")
    foreign = [
        s.name
        for s in services
        if environ.get(f"{s.prefix}DATABASE_URL", _own_database_url(s, layout))
        != _own_database_url(s, layout)
    ]
    if foreign:
        return DemoDecision(
            False, False, f"demo council: not loaded (the {', '.join(foreign)} database is not var/'s own)"
        )
    return DemoDecision(
        True,
        True,
        f"demo council: {_shown(layout.root)}/ is empty, so a generated council is loaded once the "
        f"services are ready ({DEMO_ENV}=0 starts empty)",
    )


def load_demo_in_background(
    processes: Sequence[ServiceProcess], layout: VarLayout, stopping: threading.Event
) -> threading.Thread:
    """Load (or finish loading) the demo council in a thread, while the runner supervises."""
    began = time.monotonic()

    def load() -> None:
        from steadfast_shared.embedded.demo.loader import load_demo

        headers = {"Authorization": f"Bearer {token({VAR_DIR_ENV: str(layout.root)})}"}

        async def main() -> None:
            clients = {
                p.name: httpx.AsyncClient(base_url=p.url, headers=headers, timeout=120) for p in processes
            }
            try:
                report = await load_demo(
                    clients, layout.demo_state, say=lambda m: _say(f"{m}, {_since(began)}")
                )
            finally:
                for client in clients.values():
                    await client.aclose()
            _say(
                f"  demo council: {report.snapshots} weekly KPI snapshots back-filled, {_since(began)}; "
                "the dashboard is ready"
            )

        try:
            asyncio.run(main())
        except Exception as exc:
            if stopping.is_set():
                return
            _say(
                f"  demo council: the load stopped: {type(exc).__name__}: {exc}\n"
                f"  The services keep running. Start `make run` again to finish it, or stop it and "
                f"`rm -rf {_shown(layout.root)}` to start afresh."
            )

    thread = threading.Thread(target=load, name="demo-council", daemon=True)
    thread.start()
    return thread


def _since(began: float) -> str:
    return f"{time.monotonic() - began:.0f} s after the services were ready"


def prepare_database(service: InstalledService, *, republish: bool = True) -> int:
    """Apply the service's migrations and (with ``republish``) mark its retained outbox for publishing.

    Uses the settings the service will run with (read from the environment). Returns how many retained
    events will be published again.
    """
    from steadfast_shared.db.migrations import upgrade

    settings = service.definition.settings()
    upgrade(service.definition.alembic_ini, settings.database_url)
    if not republish:
        return 0
    return asyncio.run(_republish(service.definition, settings.database_url))


async def _republish(definition: ServiceDefinition, database_url: str) -> int:
    from steadfast_shared.db.engine import create_database
    from steadfast_shared.outbox.store import OutboxStore

    database = create_database(database_url, pool_size=1)
    try:
        return await OutboxStore(database.sessionmaker, definition.tables).republish()
    finally:
        await database.dispose()


def _republish_running(
    processes: Sequence[ServiceProcess], env: Mapping[str, str], broker: TansuBroker
) -> int:
    """After the broker restarted empty: mark the outboxes of the services publishing to it (as at a
    start), while they run. A database that cannot be reached now is reported, not fatal."""
    total = 0
    for p in processes:
        if env.get(f"{p.service.prefix}KAFKA_BOOTSTRAP_SERVERS") != broker.bootstrap_servers:
            continue
        try:
            database_url = p.service.definition.settings().database_url
            total += asyncio.run(_republish(p.service.definition, database_url))
        except Exception as exc:
            _say(f"  {p.name}: could not mark its outbox for publishing again: {type(exc).__name__}: {exc}")
    return total


def _terminate_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when the runner dies, even by SIGKILL."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None

    def preexec() -> None:  # pragma: no cover - runs in the child, between fork and exec
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


@dataclass
class ServiceProcess:
    """One running service: its child process, port and log."""

    service: InstalledService
    host: str
    port: int
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)
    #: Where this start's output begins in the (appended) log file.
    _log_start: int = field(default=0, repr=False)

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, env: Mapping[str, str]) -> None:
        """Start ``python -m <package> serve --no-migrate`` with its output appended to its log."""
        command = [
            sys.executable,
            "-m",
            self.service.package,
            "serve",
            "--no-migrate",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        self._log_start = self._log.tell()
        self._log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(command)}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            # Ctrl-C reaches only the runner, which stops the services in order.
            start_new_session=True,
            preexec_fn=_terminate_with_parent(),
        )

    def exit_code(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return None if self.process is None else self.process.poll()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            with contextlib.suppress(OSError):
                log.close()

    def log_tail(self, lines: int = 25) -> str:
        """The last ``lines`` lines this start wrote to the log, indented."""
        try:
            with self.log_file.open("rb") as log:
                log.seek(self._log_start)
                text = log.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join("    " + line for line in text.splitlines()[-lines:])


def stop_services(
    processes: Sequence[ServiceProcess],
    *,
    timeout: float = STOP_TIMEOUT_SECONDS,
    hurry: threading.Event | None = None,
) -> None:
    """SIGTERM every service, wait up to ``timeout`` seconds for all of them, then SIGKILL the rest.

    Setting ``hurry`` (the runner does on a second Ctrl-C) kills the ones still running at once.
    """
    hurry = hurry or threading.Event()
    try:
        running = [p for p in processes if p.process is not None and p.exit_code() is None]
        for p in running:
            p.terminate()
        deadline = time.monotonic() + timeout
        while any(p.exit_code() is None for p in running):
            if hurry.is_set() or time.monotonic() >= deadline:
                for p in running:
                    if p.exit_code() is None:
                        _say(f"  {p.name}: did not stop in time, killing it")
                        p.kill()
                break
            time.sleep(0.05)
        for p in running:
            if p.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.process.wait(5)
    finally:
        for p in processes:
            p.close_log()


# --------------------------------------------------------------------------------------------------
# ``run``
# --------------------------------------------------------------------------------------------------


def _say(message: str = "") -> None:
    print(message, flush=True)


class _Signals:
    """SIGINT and SIGTERM: the first one stops the system, one more while stopping hurries it.

    While starting and supervising, a signal raises :class:`StopRequested` (so a wait in progress is
    abandoned); once stopping has begun, a signal only sets :attr:`hurry`, so the shutdown itself is
    never interrupted halfway.
    """

    def __init__(self) -> None:
        self.stopping = False
        self.hurry = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            if not self.hurry.is_set():
                _say(f"{signal.Signals(signum).name} again: killing the services")
            self.hurry.set()
            return
        raise StopRequested(signum)


def check_ports_free(host: str, broker: int, processes: Sequence[ServiceProcess]) -> None:
    """Fail, naming the variable that moves it, when a port the system needs is taken."""
    if not port_is_free(broker, host):
        raise RunnerError(
            f"the broker's port {host}:{broker} is already in use (another `make run`, or a Kafka?).\n"
            f"Stop whatever listens there, or pick another port: {BROKER_PORT_ENV}=19092 make run"
        )
    for p in processes:
        if not port_is_free(p.port, host):
            raise RunnerError(
                f"the {p.name} service's port {host}:{p.port} is already in use (another `make run`?).\n"
                f"Stop whatever listens there, or move every service: {PORT_OFFSET_ENV}=100 make run"
            )


def wait_until_ready(
    processes: Sequence[ServiceProcess],
    *,
    timeout: float = READY_TIMEOUT_SECONDS,
    keeper: BrokerKeeper | None = None,
) -> None:
    """Poll every service's ``/readyz`` until all answer 200; a service that exits meanwhile fails it.

    With ``keeper``, a broker that dies meanwhile is started again (a service is not ready without it).
    """
    waiting = {p.name: p for p in processes}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while waiting:
            for name, p in list(waiting.items()):
                code = p.exit_code()
                if code is not None:
                    raise ServiceDied(_died_message(p, code, "while starting"))
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{p.url}/readyz").status_code == 200:
                        del waiting[name]
                        _say(f"  {name}: ready on {p.url}")
            if not waiting:
                return
            if keeper is not None and not keeper.broker.running:
                keeper.check()
                deadline = max(deadline, time.monotonic() + timeout / 3)
            if time.monotonic() >= deadline:
                logs = ", ".join(_shown(p.log_file) for p in waiting.values())
                raise RunnerError(f"not ready after {timeout:.0f}s: {', '.join(waiting)} (see {logs})")
            time.sleep(0.2)


def _died_message(p: ServiceProcess, code: int, when: str) -> str:
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return f"the {p.name} service {how} {when}; the end of {_shown(p.log_file)}:\n{p.log_tail()}"


def supervise(processes: Sequence[ServiceProcess], keeper: BrokerKeeper) -> None:
    """Block until a service dies (raising :class:`ServiceDied`); signals interrupt it.

    A broker that dies is started again on its port by ``keeper``, which then has the services' retained
    outboxes marked for publishing to the new, empty broker.
    """
    while True:
        for p in processes:
            code = p.exit_code()
            if code is not None:
                raise ServiceDied(_died_message(p, code, "unexpectedly"))
        keeper.check()
        time.sleep(SUPERVISE_INTERVAL_SECONDS)


class BrokerKeeper:
    """Starts the broker again when it dies: on the same port, after a delay that grows while it fails."""

    def __init__(
        self,
        broker: TansuBroker,
        *,
        republish: Callable[[], int] | None = None,
        delays: Sequence[float] = BROKER_RESTART_DELAYS_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.broker = broker
        self.republish = republish
        self.delays = tuple(delays)
        self.sleep = sleep
        #: Failed starts (or short lives) in a row: the index into ``delays``.
        self.failures = 0
        self.restarts = 0
        self._started_at = time.monotonic()

    def check(self) -> None:
        """If the broker died, wait the backoff delay and try once to start it again."""
        if self.broker.running:
            return
        if time.monotonic() - self._started_at >= BROKER_HEALTHY_SECONDS:
            self.failures = 0
        delay = self.delays[min(self.failures, len(self.delays) - 1)]
        log = _shown(self.broker.log_file) if self.broker.log_file else "its log"
        _say(
            f"  broker: stopped unexpectedly (see {log}); starting it again on "
            f"{self.broker.bootstrap_servers} in {delay:g}s. The services keep running: their "
            "events wait in their outboxes."
        )
        self.sleep(delay)
        self.failures += 1
        try:
            self.broker.start()
        except BrokerError as exc:
            _say(f"  broker: could not start again: {exc}")
            return
        self._started_at = time.monotonic()
        self.restarts += 1
        _say(f"  broker: running again on {self.broker.bootstrap_servers} (empty: it keeps nothing)")
        if self.republish is not None:
            count = self.republish()
            if count:
                _say(f"  {count} retained event(s) to publish again to the new broker")


def example_get_path(definition: ServiceDefinition) -> str:
    """The service's first ``GET`` endpoint without path parameters (for the copy-paste example)."""
    for router in definition.routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and "GET" in (route.methods or ()) and "{" not in route.path:
                return route.path
    return "/openapi.json"


def summary(
    processes: Sequence[ServiceProcess],
    broker: TansuBroker,
    layout: VarLayout,
    environ: Mapping[str, str],
) -> str:
    """The table printed once everything is ready: where each service is, and how to call it."""
    token_command = "make -s token"  # -s: nothing but the token, even when make sets up first
    if VAR_DIR_ENV in environ:
        token_command = f"{VAR_DIR_ENV}={shlex.quote(str(layout.root))} make -s token"
    width = max(len("service"), *(len(p.name) for p in processes))
    rows = [f"  {'service'.ljust(width)}  {'URL'.ljust(24)}  {'API docs'.ljust(29)}  log"]
    for p in processes:
        rows.append(
            f"  {p.name.ljust(width)}  {p.url.ljust(24)}  {(p.url + '/docs').ljust(29)}  {_shown(p.log_file)}"
        )
    first = processes[0]
    example_path = example_get_path(first.service.definition)
    lines = [
        "",
        "Steadfast is running (embedded default). Ctrl-C stops it.",
        "",
        *rows,
        "",
        f"  broker   {broker.bootstrap_servers}  (Tansu, in memory: empty after every start; "
        f"log {_shown(layout.broker_log)})",
        f"  data     {_shown(layout.data)}/  (one SQLite file per service)",
        f"  logs     {_shown(layout.logs)}/",
        f"  token    {token_command}  (every scope, signed with {_shown(layout.jwt_key)})",
        "",
        "  Try it:",
        f'    TOKEN="$({token_command})"',
        f'    curl -s -H "Authorization: Bearer $TOKEN" {first.url}{example_path}',
        "",
    ]
    return "\n".join(lines)


def run(environ: Mapping[str, str] | None = None) -> int:
    """Start the broker and every service, wait for Ctrl-C or SIGTERM, stop them. Returns the exit code."""
    env = dict(os.environ if environ is None else environ)
    processes: list[ServiceProcess] = []
    broker: TansuBroker | None = None
    code = 0
    loading_stopped = threading.Event()
    with _Signals() as signals:
        try:
            layout = VarLayout.from_environment(env)
            services = discover_services()
            if not services:
                raise RunnerError(f"no service is installed (entry-point group {ENTRY_POINT_GROUP!r})")
            host = DEFAULT_HOST
            port = broker_port(env)
            processes = [
                ServiceProcess(s, host, service_port(s, env), layout.service_log(s.name)) for s in services
            ]
            check_ports_free(host, port, processes)
            layout.create()
            _say(f"Steadfast: {len(services)} service(s), data in {_shown(layout.root)}/")
            demo = demo_decision(layout, env, services)
            if demo.message:
                _say(f"  {demo.message}")
            if demo.load and not layout.demo_state.exists():
                from steadfast_shared.embedded.demo.loader import DemoState

                DemoState.begin(layout.demo_state, local_today())

            broker = TansuBroker(port, host=host, log_file=layout.broker_log)
            _say(f"  broker: starting on {host}:{port}")
            broker.start()

            for s in services:
                for name, value in service_defaults(
                    s, layout, broker.bootstrap_servers, demo=demo.holds_demo
                ).items():
                    env.setdefault(name, value)
            # Settings are read from the environment, here (to migrate) and in the services: give this
            # process the environment the services get.
            os.environ.update(env)

            for p in processes:
                # Only a service that publishes to the broker started here lost what it had published.
                republish = env[f"{p.service.prefix}KAFKA_BOOTSTRAP_SERVERS"] == broker.bootstrap_servers
                _say(f"  {p.name}: migrating")
                try:
                    republished = prepare_database(p.service, republish=republish)
                except Exception as exc:
                    raise RunnerError(
                        f"the {p.name} service's database could not be prepared: {type(exc).__name__}: {exc}"
                    ) from exc
                if republished:
                    _say(f"  {p.name}: {republished} retained event(s) to publish again to the new broker")
            for p in processes:
                _say(f"  {p.name}: starting on {p.url} (log {_shown(p.log_file)})")
                p.start(env)
            started = broker
            keeper = BrokerKeeper(broker, republish=lambda: _republish_running(processes, env, started))
            wait_until_ready(processes, keeper=keeper)
            _say(summary(processes, broker, layout, env))
            if demo.load:
                _say("  demo council: loading (the services answer meanwhile)")
                load_demo_in_background(processes, layout, loading_stopped)
            supervise(processes, keeper)
        except StopRequested as stop:
            _say(f"\n{stop} received: stopping")
        except (RunnerError, BrokerError, ServiceDied) as exc:
            print(f"\nsteadfast: {exc}", file=sys.stderr, flush=True)
            code = 1
        finally:
            signals.stopping = True
            loading_stopped.set()
            try:
                stop_services(processes, hurry=signals.hurry)
            finally:
                if broker is not None:
                    broker.stop()
    if code == 0:
        _say("Stopped.")
    return code


# --------------------------------------------------------------------------------------------------
# ``token`` and ``events``
# --------------------------------------------------------------------------------------------------


def token(environ: Mapping[str, str] | None = None, scopes: Sequence[str] | None = None) -> str:
    """A bearer token with ``scopes`` (default every scope), signed with the local key (generated if it
    does not exist). An unknown scope is refused, so a typing slip does not mint a useless token."""
    chosen = tuple(scopes) if scopes else ALL_SCOPES
    unknown = sorted(set(chosen) - set(ALL_SCOPES))
    if unknown:
        raise RunnerError(f"no such scope: {', '.join(unknown)}; the scopes are: {' '.join(ALL_SCOPES)}")
    layout = VarLayout.from_environment(environ)
    layout.secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
    return mint_local_token(ensure_local_secret(layout.jwt_key), scopes=chosen)


async def print_events(
    bootstrap: str,
    topic: str | None,
    *,
    follow: bool = False,
    subject: str | None = None,
    event_type: str | None = None,
    pretty: bool = False,
    out: IO[str] | None = None,
) -> int:
    """Print the CloudEvents on ``topic`` from the beginning (then wait for more with ``follow``).

    With no topic, list the broker's topics. Returns the exit code.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.errors import KafkaError

    out = out or sys.stdout
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        client_id="steadfast-events",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10_000,
    )
    try:
        await asyncio.wait_for(consumer.start(), 15)
    except (KafkaError, OSError, TimeoutError) as exc:
        print(
            f"steadfast: no broker answers on {bootstrap} ({exc!r}); is `make run` running?", file=sys.stderr
        )
        return 1
    try:
        topics = sorted(await consumer.topics())
        if topic is None:
            for name in topics:
                print(name, file=out)
            return 0
        if topic not in topics:
            known = ", ".join(topics) or "none yet"
            print(f"steadfast: no topic {topic!r} on {bootstrap} (topics: {known})", file=sys.stderr)
            return 1
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining or follow:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    if record.offset + 1 >= ends.get(tp, 0):
                        remaining.discard(tp)
                    if record.value is None:
                        continue
                    try:
                        event: Any = json.loads(record.value)
                    except ValueError:
                        event = {"undecodable": record.value.decode(errors="replace")}
                    if subject is not None and event.get("subject") != subject:
                        continue
                    if event_type is not None and event.get("type") != event_type:
                        continue
                    print(json.dumps(event, indent=2 if pretty else None), file=out, flush=True)
        return 0
    finally:
        await consumer.stop()


# --------------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m steadfast_shared.embedded.runner",
        description="The embedded default: the broker and every service on this machine (make run).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the broker and every installed service; Ctrl-C stops them")
    minted = sub.add_parser("token", help="print a bearer token signed with the local key (every scope)")
    minted.add_argument(
        "--scopes", default="", help='only these scopes, space-separated, e.g. "staff:read metrics:read"'
    )
    events = sub.add_parser("events", help="print the CloudEvents on a topic of the local broker")
    events.add_argument("topic", nargs="?", help="e.g. steadfast.staff (without it: list the topics)")
    events.add_argument("--follow", "-f", action="store_true", help="keep waiting for new events")
    events.add_argument("--subject", help="only the events about this aggregate id")
    events.add_argument("--type", dest="event_type", help="only events of this type")
    events.add_argument("--pretty", action="store_true", help="indent the JSON")
    events.add_argument(
        "--bootstrap",
        help=f"the broker (default 127.0.0.1:${BROKER_PORT_ENV}, i.e. 127.0.0.1:{DEFAULT_BROKER_PORT})",
    )
    args = parser.parse_args(argv)

    try:
        if args.command == "run":
            return run()
        if args.command == "token":
            print(token(scopes=args.scopes.split()))
            return 0
        bootstrap = args.bootstrap or f"{DEFAULT_HOST}:{broker_port(os.environ)}"
        try:
            return asyncio.run(
                print_events(
                    bootstrap,
                    args.topic,
                    follow=args.follow,
                    subject=args.subject,
                    event_type=args.event_type,
                    pretty=args.pretty,
                )
            )
        except KeyboardInterrupt:
            return 0
    except RunnerError as exc:
        print(f"steadfast: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
