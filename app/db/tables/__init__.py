"""Every table module, imported here so that Base.metadata knows the whole schema."""

from app.db.tables import (
    baseball,  # noqa: F401
    contracts,  # noqa: F401
    queue,  # noqa: F401
    security,  # noqa: F401
    trades,  # noqa: F401
)
