"""I/O services: cache, queue, AI provider client, circuit breaker."""
