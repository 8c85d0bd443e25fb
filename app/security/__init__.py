"""Security: passwords, tokens, rate limiting, client IP, input sanitizing and the audit log."""
