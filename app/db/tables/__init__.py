"""Every table module, imported here so that Base.metadata knows the whole schema."""

from app.db.tables import baseball  # noqa: F401
from app.db.tables import security  # noqa: F401
