"""The audit service's directory of workers, built only from the staff service's events: the tables of
:mod:`steadfast_shared.directory` on this service's metadata."""

from __future__ import annotations

from steadfast_audit.db import Base
from steadfast_shared.directory.models import DirectoryTermsColumns, DirectoryWorkerColumns


class DirectoryTerms(DirectoryTermsColumns, Base):
    pass


class DirectoryWorker(DirectoryWorkerColumns, Base):
    """Without names: no answer of the audit service names a worker from its directory."""
