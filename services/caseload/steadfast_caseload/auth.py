"""The caseload service's scopes as FastAPI dependencies (``caseload:read``, ``caseload:write``)."""

from typing import Annotated

from fastapi import Depends

from steadfast_shared.auth import Principal
from steadfast_shared.http.deps import require_scope

Reader = Annotated[Principal, Depends(require_scope("caseload:read"))]
Writer = Annotated[Principal, Depends(require_scope("caseload:write"))]
