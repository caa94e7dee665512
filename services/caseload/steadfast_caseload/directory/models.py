"""The caseload service's directory of workers, built only from the staff service's events: the tables of
:mod:`steadfast_shared.directory` on this service's metadata."""

from __future__ import annotations

from steadfast_caseload.db import Base
from steadfast_shared.directory.models import DirectoryTermsColumns, NamedDirectoryWorkerColumns


class DirectoryTerms(DirectoryTermsColumns, Base):
    pass


class DirectoryWorker(NamedDirectoryWorkerColumns, Base):
    """Named: the caseload answers name each worker to their manager."""
