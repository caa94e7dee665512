"""The runner's decision to load the demo council, and the metrics service told the records are generated."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from steadfast_shared.embedded.demo.loader import DemoState
from steadfast_shared.embedded.runner import (
    DEMO_ENV,
    InstalledService,
    RunnerError,
    VarLayout,
    demo_decision,
    discover_services,
    service_defaults,
)


@pytest.fixture
def layout(tmp_path: Path) -> VarLayout:
    var = VarLayout(tmp_path / "var")
    var.create()
    return var


@pytest.fixture(scope="module")
def services() -> list[InstalledService]:
    return discover_services()


def told_demo(services: list[InstalledService], layout: VarLayout, demo: bool) -> dict[str, bool]:
    return {
        s.name: service_defaults(s, layout, "127.0.0.1:9092", demo=demo).get(f"{s.prefix}DEMO_COUNCIL")
        == "true"
        for s in services
    }


def test_an_empty_var_loads_the_demo_and_the_metrics_service_is_told(
    layout: VarLayout, services: list[InstalledService]
) -> None:
    decision = demo_decision(layout, {}, services)
    assert decision.load
    assert decision.holds_demo
    assert "STEADFAST_DEMO=0" in decision.message
    assert told_demo(services, layout, decision.holds_demo) == {
        "staff": False,
        "caseload": False,
        "audit": False,
        "metrics": True,
    }


@pytest.mark.parametrize("off", ["0", "false", "no", "OFF"])
def test_steadfast_demo_0_starts_empty(layout: VarLayout, services: list[InstalledService], off: str) -> None:
    decision = demo_decision(layout, {DEMO_ENV: off}, services)
    assert not decision.load
    assert not decision.holds_demo
    assert not any(told_demo(services, layout, decision.holds_demo).values())


def test_a_var_holding_data_is_never_loaded(layout: VarLayout, services: list[InstalledService]) -> None:
    layout.database_file("staff").write_bytes(b"")
    decision = demo_decision(layout, {DEMO_ENV: "1"}, services)
    assert not decision.load
    assert not decision.holds_demo


def test_databases_elsewhere_are_never_loaded(layout: VarLayout, services: list[InstalledService]) -> None:
    environ = {"CASELOAD_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/caseload"}
    decision = demo_decision(layout, environ, services)
    assert not decision.load
    assert "caseload" in decision.message


def test_a_loaded_demo_is_not_loaded_again_and_stays_marked_as_demo(
    layout: VarLayout, services: list[InstalledService]
) -> None:
    state = DemoState.begin(layout.demo_state, date(2026, 3, 2))
    state.status, state.loaded_at = "loaded", "2026-03-02T09:00:00"
    state.write(layout.demo_state)
    layout.database_file("metrics").write_bytes(b"")
    for environ in ({}, {DEMO_ENV: "0"}):
        decision = demo_decision(layout, environ, services)
        assert not decision.load
        assert decision.holds_demo
        assert told_demo(services, layout, decision.holds_demo)["metrics"]


def test_an_interrupted_load_is_finished_unless_the_demo_is_off(
    layout: VarLayout, services: list[InstalledService]
) -> None:
    DemoState.begin(layout.demo_state, date(2026, 3, 2))
    layout.database_file("staff").write_bytes(b"")
    resumed = demo_decision(layout, {}, services)
    assert resumed.load
    assert resumed.holds_demo
    off = demo_decision(layout, {DEMO_ENV: "0"}, services)
    assert not off.load
    assert off.holds_demo
    assert "rm -rf" in off.message
    assert "interrupted" in off.message


def test_a_state_file_that_cannot_be_read_says_what_to_do(
    layout: VarLayout, services: list[InstalledService]
) -> None:
    layout.demo_state.write_text("{}")
    with pytest.raises(RunnerError, match="rm -rf"):
        demo_decision(layout, {}, services)
