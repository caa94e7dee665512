"""The metrics service's scopes as FastAPI dependencies (``metrics:read``, ``strategy:write``)."""

from typing import Annotated

from fastapi import Depends

from steadfast_shared.auth import Principal
from steadfast_shared.http.deps import require_scope

Reader = Annotated[Principal, Depends(require_scope("metrics:read"))]
StrategyWriter = Annotated[Principal, Depends(require_scope("strategy:write"))]
