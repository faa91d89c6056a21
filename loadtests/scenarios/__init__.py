"""One module per scenario; each calls `loadtests.registry.register(...)` when imported.

bench.py imports every module in this folder, so a new scenario is a new file here (plus, for an
HTTP scenario, its bare handler in loadtests/baseline.py).
"""
