"""The deployment check: ``docker/Dockerfile`` and ``docker-compose.yml`` built and run for real.

Run through ``bash scripts/container-smoke.sh`` (it installs the engine and the host's virtual
environment first). With podman and podman-compose, on a host that reaches no container
registry:

1. builds a Debian base image from Debian's packages (``mmdebstrap`` of the host's release and
   apt sources; the host's extra CA certificates are trusted inside, as on the host), unless it
   exists (``--rebuild-base`` makes it anew);
2. builds the genlens image from ``docker/Dockerfile`` on it (build argument ``PYTHON_IMAGE``),
   and Redis and PostgreSQL images from ``docker/redis.Dockerfile`` and
   ``docker/postgres.Dockerfile`` on the same base; ``docker/compose.local.yml`` points the
   compose services at them;
3. brings the stack up in the compose file's dependency order (podman-compose starts services
   in that order but does not wait on conditions, so this script does): Redis and PostgreSQL
   healthy, the ``migrate`` service exited 0, then both workers and both front ends healthy.
   Healthchecks are the compose file's own, run by ``podman healthcheck run`` (podman schedules
   them with systemd timers, which a host without systemd lacks);
4. runs ``genlens status`` in the Gradio container, checks that Gradio and Streamlit answer on
   127.0.0.1, submits a batch of explanations and a benchmark from the host through the
   published 127.0.0.1 ports and reads the job, artifact and leaderboard rows back from
   PostgreSQL;
5. submits a FIDO job, SIGKILLs the worker container running it and checks that the job
   completes exactly once on the other (``docker/compose.smoke.yml``: two workers on the
   ``gpu`` queue, on the CPU, with a 15 s lease);
6. tears everything down (containers, networks, volumes; the images stay for the next run)
   and writes ``bench/results/deploy.json``: image sizes, build times, time to healthy, job
   round trips and the kill-one-worker outcome.
"""

import argparse
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import yaml

from genlens.db.models import TERMINAL

REPO = Path(__file__).resolve().parents[1]
PROJECT = "genlens-smoke"
BASE_IMAGE = "localhost/genlens-base:bookworm"
TAG = "smoke"
IMAGES = {
    "genlens": (f"localhost/genlens:{TAG}", "docker/Dockerfile", "PYTHON_IMAGE"),
    "redis": ("localhost/genlens-redis:bookworm", "docker/redis.Dockerfile", "BASE_IMAGE"),
    "postgres": ("localhost/genlens-postgres:bookworm", "docker/postgres.Dockerfile", "BASE_IMAGE"),
}
BASE_PACKAGES = ["python3", "python3-venv", "python-is-python3", "ca-certificates", "passwd"]
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
COMPOSE_FILES = ["docker-compose.yml", "docker/compose.local.yml", "docker/compose.smoke.yml"]
HEALTHY_TIMEOUT = 600.0


class SmokeError(RuntimeError):
    """A step of the deployment check failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[container-smoke {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(
    command: Sequence[str], *, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; its output is returned (and shown when it fails)."""
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SmokeError(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}"
            f"{done.stderr[-3000:]}"
        )
    return done


def wait_until(what: str, ready: Callable[[], bool], timeout: float, poll: float = 2.0) -> float:
    """Poll ``ready`` until it holds; returns the seconds it took."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout:
            raise SmokeError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic() - start


def engine_config(work: Path) -> dict[str, str]:
    """The environment for podman: a containers.conf of this run's own.

    - ``runc``: Debian 12's crun 1.8 refuses hosts with cgroup v1 and v2 mounted together
      ("cgroups in hybrid mode not supported");
    - ulimits within this shell's hard limits: podman's defaults (1048576 open files, 4194304
      processes) exceed them on hosts that do not grant CAP_SYS_RESOURCE, and the container
      fails to start with "setrlimit: Operation not permitted". Podman lowers its own process
      limit to 32768, so no container can be given more.
    """
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    processes = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    conf = work / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={files}:{files}", "nproc={processes}:{processes}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def build_base(env: dict[str, str], work: Path) -> float:
    """``mmdebstrap`` the host's Debian release into a root file system; import it as
    ``BASE_IMAGE``. Returns the seconds it took."""
    release = platform.freedesktop_os_release()["VERSION_CODENAME"]
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) or [
        Path("/etc/apt/sources.list")
    ]
    rootfs = work / "base.tar"
    hooks = []
    if any(HOST_CA_DIR.glob("*.crt")):
        hooks = [
            f"--customize-hook=copy-in {HOST_CA_DIR} /usr/local/share",
            '--customize-hook=chroot "$1" update-ca-certificates',
        ]
    start = time.monotonic()
    run(
        [
            "mmdebstrap",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            *hooks,
            "--format=tar",
            release,
            str(rootfs),
            *map(str, sources),
        ]
    )
    run(
        [
            "podman",
            "import",
            "--change",
            'CMD ["/bin/bash"]',
            # The venv's pip (23.0, certifi) would not read the system's trust store.
            "--change",
            "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
            str(rootfs),
            BASE_IMAGE,
        ],
        env=env,
    )
    rootfs.unlink()
    return time.monotonic() - start


def podman_build(env: dict[str, str], dockerfile: str, tag: str, *options: str) -> None:
    """``podman build`` in Docker format (the OCI format drops the Dockerfile's ``SHELL``)."""
    run(
        ["podman", "build", "--format", "docker", *options, "-f", dockerfile, "-t", tag, "."],
        env=env,
    )


def build_images(env: dict[str, str], cache: bool) -> dict[str, dict[str, float]]:
    """Build the three images on ``BASE_IMAGE``; returns each one's build seconds and size in
    bytes. A multi-stage Dockerfile's ``build`` stage is tagged too (``TAG-build``), so that
    pruning the previous run's untagged images keeps the cache of its dependency layer.
    Without ``cache``, the images and their layers are removed first."""
    if not cache:
        tags = [tag for tag, _, _ in IMAGES.values()]
        run(
            ["podman", "rmi", "--force", *tags, f"{IMAGES['genlens'][0]}-build"],
            env=env,
            check=False,
        )
        run(["podman", "image", "prune", "--force"], env=env)
    images = {}
    for name, (tag, dockerfile, base_arg) in IMAGES.items():
        log(f"building {tag} from {dockerfile}")
        start = time.monotonic()
        base = ("--build-arg", f"{base_arg}={BASE_IMAGE}")
        if re.search(r"^FROM .* AS build$", (REPO / dockerfile).read_text(), flags=re.MULTILINE):
            podman_build(env, dockerfile, f"{tag}-build", *base, "--target", "build")
        podman_build(env, dockerfile, tag, *base)
        seconds = time.monotonic() - start
        size = int(
            run(["podman", "image", "inspect", "--format", "{{.Size}}", tag], env=env).stdout
        )
        images[name] = {"build_s": round(seconds, 1), "size_bytes": size}
        log(f"{tag}: {seconds:.0f} s, {size / 2**30:.2f} GiB")
    run(["podman", "image", "prune", "--force"], env=env)  # earlier runs' images (GBs each)
    return images


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_environment(env: dict[str, str]) -> dict[str, str]:
    """Compose variables of this run: fresh passwords, free loopback ports, the smoke tag."""
    return {
        **env,
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "REDIS_PASSWORD": secrets.token_hex(12),
        "GENLENS_UI_PASSWORD": secrets.token_hex(12),
        "GENLENS_IMAGE_TAG": TAG,
        "GENLENS_ARTIFACT_VOLUME": f"{PROJECT}-artifacts",
        **{
            name: str(free_port())
            for name in ("REDIS_PORT", "POSTGRES_PORT", "GRADIO_PORT", "STREAMLIT_PORT")
        },
    }


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    files = [part for path in COMPOSE_FILES for part in ("-f", path)]
    return run(["podman-compose", "-p", PROJECT, *files, *args], env=env)


def containers(env: dict[str, str]) -> dict[str, list[str]]:
    """The project's containers by compose service (replicas are several)."""
    listed = run(
        [
            "podman",
            "ps",
            "-a",
            "--filter",
            f"label=io.podman.compose.project={PROJECT}",
            "--format",
            '{{.Names}} {{index .Labels "com.docker.compose.service"}}',
        ],
        env=env,
    ).stdout
    by_service: dict[str, list[str]] = {}
    for line in listed.splitlines():
        name, _, service = line.partition(" ")
        by_service.setdefault(service, []).append(name)
    return by_service


def healthy(container: str, env: dict[str, str]) -> bool:
    """Run the container's compose healthcheck once."""
    return run(["podman", "healthcheck", "run", container], env=env, check=False).returncode == 0


def exited_zero(container: str, env: dict[str, str]) -> bool:
    state = run(
        ["podman", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container],
        env=env,
    ).stdout.split()
    if state[0] == "exited" and state[1] != "0":
        logs = run(["podman", "logs", container], env=env, check=False)
        raise SmokeError(
            f"{container} exited {state[1]}:\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
        )
    return state == ["exited", "0"]


def compose_services(path: Path = REPO / "docker-compose.yml") -> dict[str, dict[str, Any]]:
    """The compose file's services that start without a profile."""
    services = yaml.safe_load(path.read_text())["services"]
    return {name: service for name, service in services.items() if not service.get("profiles")}


def stages(services: dict[str, dict[str, Any]]) -> list[list[str]]:
    """``services`` in dependency levels: each comes after everything in its ``depends_on``."""
    needs = {name: set(service.get("depends_on", {})) for name, service in services.items()}
    levels: list[list[str]] = []
    placed: set[str] = set()
    while len(placed) < len(needs):
        level = [name for name in needs if name not in placed and needs[name] <= placed]
        if not level:
            raise SmokeError(f"depends_on has a cycle among {set(needs) - placed}")
        levels.append(level)
        placed |= set(level)
    return levels


def bring_up(env: dict[str, str]) -> dict[str, float]:
    """Start the stack level by level; returns seconds from ``up`` to each level being ready:
    services with a healthcheck healthy, one-shot services (``migrate``) exited 0."""
    services = compose_services()
    start = time.monotonic()
    ready = {}
    for stage in stages(services):
        compose("up", "-d", "--no-build", "--no-deps", *stage, env=env)
        names = containers(env)
        for service in stage:
            done = healthy if "healthcheck" in services[service] else exited_zero
            for container in names[service]:
                try:
                    wait_until(container, partial(done, container, env), HEALTHY_TIMEOUT)
                except SmokeError as exc:
                    logs = run(["podman", "logs", "--tail", "40", container], env=env, check=False)
                    raise SmokeError(f"{exc}; its log:\n{logs.stdout}{logs.stderr}") from None
        ready["+".join(stage)] = round(time.monotonic() - start, 1)
        log(f"ready: {', '.join(stage)} ({ready['+'.join(stage)]:.0f} s after up)")
    return ready


def postgres_url(env: dict[str, str]) -> str:
    """The stack's database through its published 127.0.0.1 port (libpq form)."""
    return (
        f"postgresql://genlens:{env['POSTGRES_PASSWORD']}@127.0.0.1:{env['POSTGRES_PORT']}/genlens"
    )


def host_settings(env: dict[str, str], data: Path) -> dict[str, str]:
    """genlens settings of the host: the stack's published 127.0.0.1 ports."""
    return {
        **env,
        "GENLENS_DATABASE_URL": postgres_url(env).replace("postgresql:", "postgresql+psycopg:", 1),
        "GENLENS_BROKER_URL": f"redis://:{env['REDIS_PASSWORD']}@127.0.0.1:{env['REDIS_PORT']}/0",
        "GENLENS_DATA_DIR": str(data),
    }


def genlens(*args: str, env: dict[str, str]) -> str:
    return run([str(Path(sys.executable).with_name("genlens")), *args], env=env).stdout


def postgres(env: dict[str, str], query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(postgres_url(env)) as connection:
        return connection.execute(query, params).fetchall()


def scalar(env: dict[str, str], query: str, *params: Any) -> Any:
    """The one value that ``query`` selects."""
    return postgres(env, query, *params)[0][0]


JOB_COLUMNS = ("status", "attempts", "worker", "started_at", "finished_at", "message", "error")


def job_row(env: dict[str, str], job_id: str) -> dict[str, Any]:
    rows = postgres(env, f"select {', '.join(JOB_COLUMNS)} from job where id = %s", job_id)
    if not rows:
        raise SmokeError(f"job {job_id} is not in PostgreSQL")
    return dict(zip(JOB_COLUMNS, rows[0], strict=True))


def wait_job(env: dict[str, str], job_id: str, timeout: float) -> dict[str, Any]:
    """The job's row once its status is final (``TERMINAL``)."""
    final: dict[str, Any] = {}

    def done() -> bool:
        final.update(job_row(env, job_id))
        return final["status"] in TERMINAL

    wait_until(f"job {job_id}", done, timeout)
    return final


def answers(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status


def check_front_ends(env: dict[str, str]) -> dict[str, int]:
    """HTTP status of Gradio's and Streamlit's health endpoints and pages on 127.0.0.1."""
    gradio = f"http://127.0.0.1:{env['GRADIO_PORT']}"
    streamlit = f"http://127.0.0.1:{env['STREAMLIT_PORT']}"
    codes = {
        "gradio /healthz": answers(f"{gradio}/healthz"),
        "gradio /": answers(f"{gradio}/"),
        "streamlit /_stcore/health": answers(f"{streamlit}/_stcore/health"),
        "streamlit /": answers(f"{streamlit}/"),
    }
    if set(codes.values()) != {200}:
        raise SmokeError(f"front ends: {codes}")
    return codes


def submitted_ids(output: str) -> list[str]:
    return re.findall(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", output)


def check_batch(env: dict[str, str], host: dict[str, str]) -> dict[str, Any]:
    """A batch of explanations (2 photos x 2 methods) and a 4-image benchmark from the host;
    the rows are read back from PostgreSQL."""
    start = time.monotonic()
    batch = submitted_ids(
        genlens(
            "submit",
            "explain",
            "sample:chelsea",
            "sample:coffee",
            "--method",
            "grad-cam",
            "--method",
            "integrated-gradients",
            env=host,
        )
    )[0]
    benchmark = submitted_ids(
        genlens(
            "submit",
            "benchmark",
            "--suite",
            "fmnist",
            "--methods",
            "grad-cam,centre",
            "--limit",
            "4",
            env=host,
        )
    )[0]
    children = [row[0] for row in postgres(env, "select id from job where parent_id = %s", batch)]
    outcomes = {job: wait_job(env, job, 600)["status"] for job in [*children, benchmark]}
    seconds = time.monotonic() - start
    summary = {
        "explain_jobs": len(children),
        "explain_artifacts": scalar(
            env, "select count(*) from job_artifact where job_id = any(%s)", children
        ),
        "benchmark_rows": scalar(
            env, "select count(*) from benchmark_run where job_id = %s", benchmark
        ),
        "metric_rows": scalar(
            env,
            "select count(*) from metric_result join benchmark_run on run_id = benchmark_run.id "
            "where job_id = %s",
            benchmark,
        ),
        "statuses": sorted(set(outcomes.values())),
        "round_trip_s": round(seconds, 1),
    }
    if summary["statuses"] != ["succeeded"] or len(children) != 4 or not summary["benchmark_rows"]:
        raise SmokeError(f"batch: {summary} {outcomes}")
    log(f"batch landed in PostgreSQL: {summary}")
    return summary


def container_of(identity: str, env: dict[str, str]) -> str:
    """The container whose hostname is a worker identity's host (``HOST:PID``)."""
    host = identity.rpartition(":")[0]
    for names in containers(env).values():
        for name in names:
            hostname = run(
                ["podman", "inspect", "--format", "{{.Config.Hostname}}", name], env=env
            ).stdout.strip()
            if hostname == host:
                return name
    raise SmokeError(f"no container runs worker {identity}")


def check_kill_worker(env: dict[str, str], host: dict[str, str]) -> dict[str, Any]:
    """SIGKILL the worker container running a FIDO job; the job must complete exactly once."""
    job = submitted_ids(
        genlens(
            "submit",
            "explain",
            "sample:chelsea",
            "--method",
            "fido-ssr",
            "--steps",
            "120",
            env=host,
        )
    )[0]
    wait_until("FIDO job running", lambda: (job_row(env, job)["worker"] or "") != "", 300, poll=0.5)
    wait_until("FIDO job under way", lambda: _progress(env, job) > 0.05, 300, poll=0.5)
    first = job_row(env, job)["worker"]
    victim = container_of(first, env)
    log(f"killing {victim} (runs job {job} as {first})")
    killed_at = time.monotonic()
    run(["podman", "kill", "--signal", "KILL", victim], env=env)
    final = wait_job(env, job, 900)
    done_at = time.monotonic()
    completed_in = container_of(final["worker"], env)
    victim_after = run(
        ["podman", "inspect", "--format", "{{.State.Status}}, {{.RestartCount}} restarts", victim],
        env=env,
    ).stdout.strip()
    outcome = {
        "job": job,
        "killed_container": victim,
        "killed_worker": first,
        "killed_container_after": victim_after,
        "completed_by": final["worker"],
        "completed_in_container": completed_in,
        "status": final["status"],
        "attempts": final["attempts"],
        "seconds_from_kill_to_done": round(done_at - killed_at, 1),
        "artifacts": scalar(env, "select count(*) from job_artifact where job_id = %s", job),
    }
    if (final["status"], final["attempts"]) != ("succeeded", 2) or completed_in == victim:
        raise SmokeError(f"kill one worker: {outcome} {final}")
    log(f"kill one worker: {outcome}")
    return outcome


def _progress(env: dict[str, str], job_id: str) -> float:
    return scalar(env, "select progress from job where id = %s", job_id) or 0.0


def tear_down(env: dict[str, str]) -> None:
    compose("down", "-v", env=env)
    run(["podman", "volume", "rm", "-f", f"{PROJECT}-artifacts"], env=env, check=False)


def print_kept(stack: dict[str, str], work: Path) -> None:
    """``--keep``: where the stack answers, and the command that removes it."""
    variables = {key: value for key, value in stack.items() if key not in os.environ}
    env_file = work / "stack.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in variables.items()))
    files = " ".join(f"-f {path}" for path in COMPOSE_FILES)
    log(
        f"left running: Gradio http://127.0.0.1:{stack['GRADIO_PORT']} (genlens / "
        f"{stack['GENLENS_UI_PASSWORD']}), Streamlit http://127.0.0.1:{stack['STREAMLIT_PORT']}\n"
        f"remove it: CONTAINERS_CONF={stack['CONTAINERS_CONF']} podman-compose --env-file "
        f"{env_file} -p {PROJECT} {files} down -v"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/deploy.json")
    parser.add_argument("--rebuild-base", action="store_true", help="mmdebstrap the base anew")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument("--no-cache", action="store_true", help="remove the images, build anew")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # tear down when stopped
    work = Path(tempfile.mkdtemp(prefix="genlens-container-"))
    env = engine_config(work)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "host": f"{platform.freedesktop_os_release()['PRETTY_NAME']}, {os.cpu_count()} cores",
        "engine": run(["podman", "--version"], env=env).stdout.strip(),
    }
    exists = run(["podman", "image", "exists", BASE_IMAGE], env=env, check=False).returncode == 0
    if args.rebuild_base or not exists:
        log(f"building {BASE_IMAGE} with mmdebstrap")
        result["base_build_s"] = round(build_base(env, work), 1)
    result["images"] = build_images(env, cache=not args.no_cache)
    result["images_cached"] = not args.no_cache
    stack = stack_environment(env)
    try:
        result["ready_s"] = bring_up(stack)
        status = json.loads(
            run(
                ["podman", "exec", containers(stack)["gradio"][0], "genlens", "status", "--json"],
                env=stack,
            ).stdout
        )
        result["genlens_status_ok"] = status["ok"]
        result["front_ends"] = check_front_ends(stack)
        host = host_settings(stack, work / "host")
        result["batch"] = check_batch(stack, host)
        result["kill_one_worker"] = check_kill_worker(stack, host)
    finally:
        if args.keep:
            print_kept(stack, work)
        else:
            tear_down(stack)
            shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
