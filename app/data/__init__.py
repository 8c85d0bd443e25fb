"""The embedded Lahman extract (CC BY-SA 3.0, see ATTRIBUTION.md) and its loader."""
