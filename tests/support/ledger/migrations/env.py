from alembic import context

from steadfast_shared.db.migrations import run_env
from tests.support.ledger.models import Base
from tests.support.ledger.settings import LedgerSettings

run_env(context, service="ledger", metadata=Base.metadata, settings_class=LedgerSettings)
