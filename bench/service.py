"""Benchmark the job service's own overhead (a script, not a test), on both brokers.

For the filesystem broker (embedded default) and for Redis (a real ``redis-server`` on
loopback), with SQLite as job database and one ``genlens worker -c 1`` (prefork):

* submit-to-start latency: ``started_at - created_at`` of the job row for jobs submitted one at
  a time into an idle worker (zero-work ``sleep`` jobs; the client waits for each);
* queue overhead per job: a burst of N zero-work jobs submitted at once, wall time from the
  first submit until all succeeded, divided by N (and the jobs' own run time for comparison).

Usage: ``.venv/bin/python bench/service.py [--latency 30] [--burst 200] [--out PATH]``.
Needs ``redis-server`` (Debian package).
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from genlens.db.models import Job
from genlens.worker.local_servers import LocalDeployment, RedisServer

RESULTS = Path(__file__).parent / "results" / "service.json"
ZERO = {"kind": "sleep", "steps": 0, "seconds": 0.0}


def _milliseconds(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _rows(deployment: LocalDeployment, ids: list[str]) -> list[Job]:
    with deployment.client.db.begin() as session:
        return list(session.scalars(select(Job).where(Job.id.in_(ids))))


def measure(deployment: LocalDeployment, latency_jobs: int, burst_jobs: int, label: str) -> dict:
    """Latency and burst numbers for one deployment with one ready worker."""
    client = deployment.client
    deployment.ensure_workers(1)
    client.wait(client.submit({**ZERO, "tag": f"{label}-warm-up"}), timeout=120, poll=0.01)

    single = []
    for index in range(latency_jobs):
        job_id = client.submit({**ZERO, "tag": f"{label}-single-{index}"})
        client.wait(job_id, timeout=60, poll=0.005)
        single.append(job_id)
        time.sleep(0.2)
    rows = _rows(deployment, single)
    start = [(row.started_at - row.created_at).total_seconds() for row in rows]
    end = [(row.finished_at - row.created_at).total_seconds() for row in rows]

    began = time.perf_counter()
    burst = [
        client.submit({**ZERO, "tag": f"{label}-burst-{index}"}) for index in range(burst_jobs)
    ]
    submitted = time.perf_counter() - began
    while client.count("succeeded") < latency_jobs + burst_jobs + 1:
        time.sleep(0.02)
    total = time.perf_counter() - began
    run = [(row.finished_at - row.started_at).total_seconds() for row in _rows(deployment, burst)]
    return {
        "submit_to_start": _milliseconds(start),
        "submit_to_done": _milliseconds(end),
        "burst": {
            "jobs": burst_jobs,
            "submit_seconds": round(submitted, 2),
            "total_seconds": round(total, 2),
            "per_job_ms": round(total / burst_jobs * 1000, 1),
            "jobs_per_second": round(burst_jobs / total, 1),
            "job_run_time": _milliseconds(run),
        },
    }


def main() -> None:
    """Run both brokers, print a summary and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=int, default=30, help="jobs for the latency test")
    parser.add_argument("--burst", type=int, default=200, help="jobs in the burst")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        },
        "setup": "SQLite (WAL) job database, one `genlens worker -c 1` (prefork), "
        "zero-work sleep jobs; filesystem broker polling every 0.1 s",
        "brokers": {},
    }
    with tempfile.TemporaryDirectory(prefix="genlens-bench-") as folder:
        root = Path(folder)
        (root / "redis-server").mkdir()
        redis = RedisServer(root / "redis-server")
        try:
            for label, broker in (("filesystem", None), ("redis", redis.url)):
                (root / label).mkdir()
                deployment = LocalDeployment(root / label, None, broker)
                try:
                    results["brokers"][label] = measure(deployment, args.latency, args.burst, label)
                finally:
                    deployment.close()
        finally:
            redis.stop()
    results["machine"]["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    for label, numbers in results["brokers"].items():
        print(
            f"{label:>10}: submit->start median {numbers['submit_to_start']['median_ms']} ms "
            f"(p90 {numbers['submit_to_start']['p90_ms']} ms), submit->done median "
            f"{numbers['submit_to_done']['median_ms']} ms; burst of {args.burst}: "
            f"{numbers['burst']['per_job_ms']} ms/job "
            f"({numbers['burst']['jobs_per_second']} jobs/s)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
