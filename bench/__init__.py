"""Benchmarks: each prints its figures with the machine and the command."""
