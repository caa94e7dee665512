"""The audit service's scopes as FastAPI dependencies (``audit:read``, ``audit:write``)."""

from typing import Annotated

from fastapi import Depends

from steadfast_shared.auth import Principal
from steadfast_shared.http.deps import require_scope

Reader = Annotated[Principal, Depends(require_scope("audit:read"))]
Writer = Annotated[Principal, Depends(require_scope("audit:write"))]
