"""Queries over the baseball tables: async functions that take an AsyncSession."""
