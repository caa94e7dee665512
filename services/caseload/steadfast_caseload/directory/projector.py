"""The caseload service's worker directory follows the staff events (:mod:`steadfast_shared.directory`)."""

from steadfast_caseload.directory.models import DirectoryTerms, DirectoryWorker
from steadfast_shared.directory.projector import directory_consumer, staff_event_projector

CONSUMER_NAME = "caseload-worker-directory"

apply_staff_event = staff_event_projector(DirectoryWorker, DirectoryTerms)
worker_directory_consumer = directory_consumer(CONSUMER_NAME, apply_staff_event)
