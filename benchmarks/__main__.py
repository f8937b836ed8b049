from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [n for n in names if not argv or n.removeprefix("bench_") in argv]
    if not wanted:
        print(f"no benchmark matches {argv}; have: {[n.removeprefix('bench_') for n in names]}")
        return 2
    for name in wanted:
        print(f"== {name.removeprefix('bench_')}")
        importlib.import_module(f"benchmarks.{name}").main()
        print()
    return 0


raise SystemExit(main(sys.argv[1:]))
