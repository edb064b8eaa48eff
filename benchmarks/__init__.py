"""Benchmarks of ``lib`` against the peer libraries: ``python -m benchmarks.run`` (see README)."""
