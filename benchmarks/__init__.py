"""Benchmarks: each `bench_*.py` module has `main()` printing its figures as ratios against a
reference measured in the same run. Run all with `python -m benchmarks` (or `make bench`), one with
`python -m benchmarks pki`."""
