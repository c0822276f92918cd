"""The triage database: SQLAlchemy models, Alembic migrations and the :class:`Store` API.

Open it with :func:`open_store`, which migrates the schema to the newest revision::

    store = open_store("sqlite:///triage.db")
    run_id = store.start_run()
    store.save_document(document, records, run_id=run_id)
"""

from workflow.store.database import DEFAULT_STORE_URL
from workflow.store.store import (
    AUTO_ROUTE,
    ClaimPaymentMatch,
    MODEL_MANAGED_STATUSES,
    Store,
    StoredClaim,
    open_store,
)

__all__ = [
    "AUTO_ROUTE",
    "ClaimPaymentMatch",
    "DEFAULT_STORE_URL",
    "MODEL_MANAGED_STATUSES",
    "Store",
    "StoredClaim",
    "open_store",
]
