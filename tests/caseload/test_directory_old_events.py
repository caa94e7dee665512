"""The worker directory still reads the staff service's version 1 worker events, which carried the
Social Work England registration number (dropped from version 2: docs/security.md, "Personal data")."""

from __future__ import annotations

from steadfast_caseload.directory.projector import apply_staff_event
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork
from tests.caseload.conftest import staff_event, staff_worker


async def test_a_version_1_worker_event_with_the_registration_number_fills_the_directory(
    caseload: ServiceClient,
) -> None:
    worker = staff_worker("HR-V1")
    new = staff_event(worker)
    old = new.model_copy(
        update={
            "type": "org.steadfast.staff.worker.hired.v1",
            "data": {**new.data, "swe_registration_number": "SW123456"},
        }
    )
    runtime = caseload.runtime
    async with runtime.database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=runtime.definition.tables, registry=runtime.definition.registry)
        await apply_staff_event(uow, old)
        await uow.commit()
    async with runtime.database.sessionmaker() as session:
        held = await DirectoryRepository(session).get("HR-V1")
    assert held is not None
    assert (held.id, held.display_name, held.version) == (worker.id, worker.display_name, worker.version)
    assert not hasattr(held, "swe_registration_number")
