"""btai: the operations toolkit for the Baseball Trade AI service."""

__version__ = "0.1.0"
