"""Benchmarks of the agents (``make bench``); see bench/README.md."""
