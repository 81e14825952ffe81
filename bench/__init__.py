"""Benchmarks on generated data, reported as ratios against a baseline run side by side."""
