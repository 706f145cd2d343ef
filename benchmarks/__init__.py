"""Benchmarks: `make bench` (python -m benchmarks [NAME ...]) runs every benchmarks/*_bench.py."""
