"""What the audit service reads from the staff service's worker events (shared by every service)."""

from steadfast_shared.directory.schemas import (
    WORKER_EVENT_PREFIX,
    DirectoryWorkerRead,
    StaffTerms,
    StaffWorker,
)

__all__ = ["WORKER_EVENT_PREFIX", "DirectoryWorkerRead", "StaffTerms", "StaffWorker"]
