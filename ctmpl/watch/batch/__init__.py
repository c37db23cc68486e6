"""Batched watching of ``service`` queries: few connections for any number of services."""

from ctmpl.watch.batch.watcher import ServiceBatch, batchable

__all__ = ["ServiceBatch", "batchable"]
