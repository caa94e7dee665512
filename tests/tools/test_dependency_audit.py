"""``make audit``: pip-audit, answered from the vendored advisory snapshot by a local OSV endpoint, finds a
known-vulnerable pin, passes a safe one, and refuses a package the snapshot does not cover."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tools.advisories import affects, load
from tools.dependency_audit import audit, osv_endpoint

#: Starlette 0.20.0 is affected by PYSEC-2023-48 (and others) in the snapshot.
VULNERABLE = "starlette==0.20.0"


def ask(url: str, name: str, version: str) -> dict[str, object]:
    query = json.dumps({"package": {"name": name, "ecosystem": "PyPI"}, "version": version}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=query, method="POST"), timeout=10) as answer:
        body: dict[str, object] = json.loads(answer.read())
        return body


def test_the_endpoint_answers_as_osv_does() -> None:
    snapshot = load()
    with osv_endpoint(snapshot) as url:
        found = ask(url, "Starlette", "0.20.0")
        assert "PYSEC-2023-48" in {v["id"] for v in found["vulns"]}  # type: ignore[attr-defined]
        assert ask(url, "starlette", "99.0") == {}
        with pytest.raises(urllib.error.HTTPError) as refused:
            ask(url, "not-a-locked-package", "1.0")
        assert refused.value.code == 409


def test_pip_audit_fails_on_a_vulnerable_pin_and_passes_a_safe_one(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(VULNERABLE + "\n")
    assert audit(requirements, extra=["--no-deps"]) != 0
    requirements.write_text("starlette==99.0\n")
    assert audit(requirements, extra=["--no-deps"]) == 0


def test_a_pin_the_snapshot_does_not_cover_fails_the_audit(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("not-a-locked-package==1.0\n")
    assert audit(requirements, extra=["--no-deps"]) != 0


def advisory(*events: dict[str, str], versions: tuple[str, ...] = ()) -> dict[str, object]:
    return {
        "id": "TEST-1",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Example_Package"},
                "ranges": [{"type": "ECOSYSTEM", "events": list(events)}],
                "versions": list(versions),
            }
        ],
    }


@pytest.mark.parametrize(
    ("events", "affected", "safe"),
    [
        # introduced 1.0, fixed 1.4: 1.0 up to, not including, 1.4 (pre-releases of 1.4 are before it)
        (({"introduced": "1.0"}, {"fixed": "1.4"}), ["1.0", "1.3.9", "1.4rc1"], ["0.9", "1.4", "2.0"]),
        # from the first release, last affected 2.1: up to and including 2.1
        (({"introduced": "0"}, {"last_affected": "2.1"}), ["0.1", "2.1"], ["2.1.1", "3.0"]),
        # two ranges in one list: 1.x before 1.2, and 2.x before 2.3
        (
            ({"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"fixed": "2.3"}),
            ["1.1", "2.2"],
            ["1.2", "1.9", "2.3"],
        ),
        # never at or past a limit
        (({"introduced": "0"}, {"limit": "5.0"}), ["4.9"], ["5.0", "6.1"]),
        (({"introduced": "0"}, {"limit": "*"}), ["0.1", "99.0"], []),
    ],
)
def test_an_advisory_affects_the_versions_in_its_ranges(
    events: tuple[dict[str, str], ...], affected: list[str], safe: list[str]
) -> None:
    found = advisory(*events)
    assert [v for v in affected if affects(found, "example-package", v)] == affected
    assert [v for v in safe if affects(found, "example-package", v)] == []
    assert not affects(found, "another-package", affected[0])


def test_an_advisory_affects_the_versions_it_lists() -> None:
    found = advisory(versions=("1.0.0", "1.1"))
    assert affects(found, "example-package", "1.0")  # the same PEP 440 version
    assert affects(found, "example-package", "1.1")
    assert not affects(found, "example-package", "1.2")
