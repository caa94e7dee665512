from __future__ import annotations

from steadfast_caseload.auth import Reader
from steadfast_caseload.settings import CaseloadSettings
from steadfast_caseload.strategy.repository import StrategyRepository
from steadfast_caseload.strategy.schemas import StrategyRead
from steadfast_caseload.strategy.service import StrategyService
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/strategy", tags=["strategy"])


def strategy_service(uow: UnitOfWork, runtime: Runtime) -> StrategyService:
    settings = runtime.settings
    if not isinstance(settings, CaseloadSettings):
        raise TypeError("the caseload endpoints need the caseload service's settings")
    return StrategyService(StrategyRepository(uow.session), settings.council)


@router.get(
    "",
    summary="The strategy the caseload answers apply (limits, weights, visit intervals), as last heard "
    "from the metrics service",
)
async def strategy_in_force(uow: UoWDep, runtime: RuntimeDep, _: Reader) -> StrategyRead:
    return StrategyRead.of(await strategy_service(uow, runtime).in_force())
