"""casegate's benchmarks, run as `python -m bench` (`make bench`).

The machine they run on is small, shared and noisy, so no absolute number printed here means
much on its own: every figure is a ratio against a baseline measured in the same run, by the
same load generator, and each figure is the median of a few short rounds.
"""
