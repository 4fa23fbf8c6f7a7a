"""Benchmarks that start the service or drive the application layer (``api``).

They live outside ``evaluation/`` so that the evaluation package never imports ``api``
(see the layer contracts in docs/architecture.md). Run each with ``python -m benchmarks.<name>``.
"""
