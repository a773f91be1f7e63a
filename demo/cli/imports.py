"""Which heavy packages a ``genlens`` command imports (help texts and ``genlens models`` must
import none of them; ``bench/cli_startup.py`` and the tests check it)."""

import json
import os
import subprocess
import sys
from collections.abc import Sequence

HEAVY = (
    "torch",
    "torchvision",
    "timm",
    "captum",
    "gradio",
    "streamlit",
    "celery",
    "sqlalchemy",
    "matplotlib",
)
"""Packages whose import costs seconds; commands load them only when they run."""

_PROBE = (
    "import json, sys\n"
    "from genlens.demo.cli import main\n"
    "try:\n    main()\n"
    "except SystemExit:\n    pass\n"
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
)


def heavy_imports(args: Sequence[str], timeout: float = 120) -> tuple[list[str], str]:
    """Run ``genlens ARGS`` in a fresh interpreter; ``(heavy packages it imported, stdout)``.

    Raises:
        RuntimeError: the command failed (its stderr is in the message).
    """
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"genlens {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout
