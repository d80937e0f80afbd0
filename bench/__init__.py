"""Benchmarks: every figure is a ratio against a baseline measured in the same run (noisy 2-core machine)."""
