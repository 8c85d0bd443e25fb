"""Monitoring: the Prometheus metrics registry, health checks, alerts and trends."""
