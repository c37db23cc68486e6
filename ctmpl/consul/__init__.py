"""Consul access: the HTTP client, the dependency (query) types and the data models."""
