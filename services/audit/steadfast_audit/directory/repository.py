from steadfast_audit.directory.models import DirectoryWorker
from steadfast_shared.directory.repository import WorkerDirectoryRepository


class DirectoryRepository(WorkerDirectoryRepository[DirectoryWorker]):
    model = DirectoryWorker
