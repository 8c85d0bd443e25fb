"""Pure baseball logic: valuation, trade evaluation, needs and request parsing (no I/O)."""
