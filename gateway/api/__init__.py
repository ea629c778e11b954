"""The HTTP edge: canonical case APIs, health and the problem+json error vocabulary."""
