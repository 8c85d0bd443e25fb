"""Every table module, imported here so that Base.metadata knows the whole schema."""
