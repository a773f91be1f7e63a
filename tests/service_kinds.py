"""Job kinds used only by the service tests, loaded by workers through GENLENS_PLUGINS:
``crash`` kills its own worker process (a poison job)."""

import os
import signal
from collections.abc import Mapping
from typing import Any

from genlens.worker.context import JobContext, SubmitContext
from genlens.worker.kinds import JobKind, check_keys, register_kind


def validate_crash(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters: ``tag`` (free text)."""
    check_keys("crash", spec, {"tag"})
    return {"tag": str(spec.get("tag", ""))}


def run_crash(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """SIGKILL the process running the job, like an out-of-memory kill."""
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


register_kind(JobKind("crash", "cpu", validate_crash, run_crash, "kills its worker process"))
