"""The in-memory Consul: one node's catalog, checks, KV and indexes, with Consul's query rules.

Shared by the offline data file (``-data``), served through an httpx transport, and by the
dev server (``ctmpl.devserver``), which adds HTTP serving, check runners and fault injection.
"""
