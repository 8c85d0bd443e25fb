"""Helpers shared by the test suite: real services and real server processes."""
