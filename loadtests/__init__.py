"""Benchmarks that run Roost and a bare aiohttp baseline side by side and report the ratio.

Entry point: `python loadtests/bench.py [scenario ...]` (see loadtests/README.md).
"""
