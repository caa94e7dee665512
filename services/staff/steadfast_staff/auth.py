"""The staff service's scopes as FastAPI dependencies (SPEC section 6: ``staff:read``, ``staff:write``)."""

from typing import Annotated

from fastapi import Depends

from steadfast_shared.auth import Principal
from steadfast_shared.http.deps import require_scope

Reader = Annotated[Principal, Depends(require_scope("staff:read"))]
Writer = Annotated[Principal, Depends(require_scope("staff:write"))]
