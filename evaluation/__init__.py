"""Metrics, the evaluator over the exchange format, and benchmarks."""
