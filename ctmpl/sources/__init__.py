"""Watched data that does not come from Consul (files)."""
