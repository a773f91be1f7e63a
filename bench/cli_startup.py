"""CLI start-up: ``.venv/bin/python bench/cli_startup.py [--rounds N]``.

Runs ``genlens --help``, every ``genlens <command> --help`` and ``genlens models`` as fresh
processes (the installed console script, as a user types it) and reports, per command, the
median wall time over ``--rounds`` runs and which heavy packages the process imported
(:data:`genlens.demo.cli.imports.HEAVY`: torch, gradio, celery, ...; target: none).
Target: ``genlens --help`` under 1 s. Prints a table and writes ``bench/results/cli_startup.json``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from genlens.demo.cli.imports import heavy_imports

RESULTS = Path(__file__).parent / "results" / "cli_startup.json"
COMMANDS = (
    (),
    ("classify",),
    ("explain",),
    ("visualize",),
    ("generate",),
    ("train",),
    ("bench", "saliency"),
    ("submit", "explain"),
    ("submit", "benchmark"),
    ("worker",),
    ("jobs",),
    ("status",),
    ("ui", "demo"),
)


def wall(argv: list[str]) -> float:
    """Seconds for one run of the real ``genlens`` script."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    script = str(Path(sys.executable).with_name("genlens"))
    cases = [[*command, "--help"] for command in COMMANDS] + [["models"], ["models", "--all"]]
    rows = []
    for args in cases:
        times = [wall([script, *args]) for _ in range(options.rounds)]
        rows.append(
            {
                "command": " ".join(["genlens", *args]),
                "median_s": round(statistics.median(times), 3),
                "max_s": round(max(times), 3),
                "heavy_imports": heavy_imports(args)[0],
            }
        )
    width = max(len(row["command"]) for row in rows)
    print(f"{'command':<{width}}  median s  max s  heavy imports")
    for row in rows:
        heavy = ", ".join(row["heavy_imports"]) or "none"
        print(f"{row['command']:<{width}}  {row['median_s']:8.3f}  {row['max_s']:5.3f}  {heavy}")
    report = {
        "rounds": options.rounds,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "target": "genlens --help < 1 s; no heavy import for help texts and `genlens models`",
        "help_under_1s": rows[0]["median_s"] < 1.0,
        "rows": rows,
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()
