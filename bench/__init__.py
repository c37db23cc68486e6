"""Benchmarks of ctmpl: python -m bench (see docs/performance.md)."""
