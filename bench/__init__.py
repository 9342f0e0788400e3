"""Benchmarks (issue 13): scripts run with ``python -m bench.<name>`` from the repository root;
``make bench`` runs them all."""
