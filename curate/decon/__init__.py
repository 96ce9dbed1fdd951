"""Benchmark decontamination: eval sets, their n-gram index, matching and the report."""
