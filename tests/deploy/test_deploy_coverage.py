"""Every service of the repository is deployed: its image, its compose services, its Kubernetes folder."""

from __future__ import annotations

from collections.abc import Callable


def test_every_service_is_deployed(
    present_services: list[str], missing_deployment: Callable[[str], list[str]]
) -> None:
    assert "staff" in present_services
    missing = {s: missing_deployment(s) for s in present_services if missing_deployment(s)}
    assert not missing, (
        f"services without their deployment (see deploy/README.md, Adding a service): {missing}"
    )
