"""CI checks of the deployment files without a Docker engine: docker-compose.yml against the
compose specification (check-jsonschema), docker/Dockerfile with hadolint, and the policies the
operations guide promises (loopback ports, healthchecks, GPU reservation, settings names).
``tests/test_container_deploy.py`` (``-m container``) builds and runs them."""

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from compose_env import (
    COMPOSE,
    ENV_EXAMPLE,
    REPO,
    MissingVariable,
    load_compose,
    raw_compose,
    read_env_file,
    service_environment,
)

from genlens.worker.settings import Settings

BIN = Path(sys.executable).parent
DOCKERFILE = REPO / "docker" / "Dockerfile"
SERVER_DOCKERFILES = [REPO / "docker" / "redis.Dockerfile", REPO / "docker" / "postgres.Dockerfile"]
LOCAL_IMAGES = REPO / "docker" / "compose.local.yml"
SMOKE = REPO / "docker" / "compose.smoke.yml"


class _OverrideLoader(yaml.SafeLoader):
    """YAML with the compose merge tags ``!override`` and ``!reset`` read as plain values."""


def _untagged(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


for _tag in ("!override", "!reset"):
    _OverrideLoader.add_constructor(_tag, _untagged)


def _override(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_OverrideLoader)


def _check_compose(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_matches_the_compose_spec() -> None:
    result = _check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_schema_check_rejects_a_broken_gpu_reservation(tmp_path: Path) -> None:
    text = COMPOSE.read_text()
    assert text.count("capabilities: [gpu]") == 1
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace("capabilities: [gpu]", "capabilitiez: [gpu]"))
    result = _check_compose(broken)
    assert result.returncode == 1
    assert "'capabilities' is a required property" in result.stdout


def _hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("path", [DOCKERFILE, *SERVER_DOCKERFILES], ids=lambda path: path.name)
def test_dockerfiles_pass_hadolint(path: Path) -> None:
    result = _hadolint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN curl -sSL https://example.com/x.sh | sh\n")
    flagged = _hadolint(bad)
    assert flagged.returncode == 1 and "DL3007" in flagged.stdout and "DL4006" in flagged.stdout


def test_dockerfile_structure() -> None:
    """Non-root numeric user, pinned base image, no downloads besides the package installers,
    the project installed with the pins of constraints.txt and requirements-nodeps.txt."""
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1])
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", text, flags=re.MULTILINE).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base)
    assert all(
        image == "${PYTHON_IMAGE}"
        for image in re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    )
    assert not re.search(r"\b(curl|wget)\b|^ADD\s", text, flags=re.MULTILINE)
    assert "-c constraints.txt -r /tmp/requirements.txt" in text
    assert "--no-deps -r requirements-nodeps.txt" in text


@pytest.mark.parametrize("path", [LOCAL_IMAGES, SMOKE], ids=lambda path: path.name)
def test_override_files_match_the_compose_spec(path: Path, tmp_path: Path) -> None:
    """Each override validates, and only changes services that docker-compose.yml defines."""
    resolved = tmp_path / f"{path.stem}.json"
    resolved.write_text(json.dumps(_override(path)))
    result = _check_compose(resolved)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(_override(path)["services"]) <= set(raw_compose()["services"])


def test_local_images_come_from_the_servers_dockerfiles() -> None:
    """compose.local.yml's images are the ones container-smoke.sh builds from the server
    Dockerfiles on the local base (its BASE_IMAGE build argument)."""
    images = {
        name: service["image"] for name, service in _override(LOCAL_IMAGES)["services"].items()
    }
    assert images == {
        "redis": "localhost/genlens-redis:bookworm",
        "postgres": "localhost/genlens-postgres:bookworm",
    }
    smoke = (REPO / "scripts" / "container_smoke.py").read_text()
    for path in SERVER_DOCKERFILES:
        assert re.search(r"^ARG BASE_IMAGE=", path.read_text(), flags=re.MULTILINE), path
        assert f'"docker/{path.name}", "BASE_IMAGE"' in smoke
    for image in images.values():
        assert image in smoke


def test_smoke_stack_runs_two_cpu_workers_without_the_gpu_reservation() -> None:
    worker = _override(SMOKE)["services"]["worker-gpu"]
    # Replaces, not merges, the NVIDIA reservation.
    assert worker["deploy"] == {"mode": "replicated", "replicas": 2}
    assert "deploy: !override" in SMOKE.read_text()
    assert worker["environment"]["GENLENS_DEVICE"] == "cpu"
    lease = float(worker["environment"]["GENLENS_LEASE_SECONDS"])
    assert lease < Settings.model_fields["lease_seconds"].default


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_ports_are_published_on_loopback_only(compose: dict) -> None:
    published = 0
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.split(":")[0] == "127.0.0.1", (name, port)
            published += 1
    assert published == 5  # redis, postgres, gradio, streamlit, flower


def _seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)(s|m)", duration).groups()
    return timedelta(**{"seconds" if unit == "s" else "minutes": int(value)}).total_seconds()


def test_services_wait_for_healthy_dependencies(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {
        "redis",
        "postgres",
        "migrate",
        "worker-gpu",
        "worker-cpu",
        "gradio",
        "streamlit",
        "flower",
    }
    for name, service in services.items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name
        for dependency, rule in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            )
            assert rule["condition"] == expected, (name, dependency)
    for name in ("worker-gpu", "worker-cpu", "gradio", "streamlit"):
        assert set(services[name]["depends_on"]) == {"redis", "postgres", "migrate"}
    assert services["migrate"]["command"] == ["genlens", "db", "upgrade"]
    assert services["flower"]["profiles"] == ["monitoring"]
    assert "--basic-auth" in " ".join(services["flower"]["command"])


def test_workers_and_stores(compose: dict) -> None:
    services = compose["services"]
    gpu = services["worker-gpu"]
    command = gpu["command"]
    assert command[:2] == ["genlens", "worker"]
    assert command[command.index("--queues") + 1] == "gpu"
    assert command[command.index("--concurrency") + 1] == "1"
    assert services["worker-cpu"]["command"][3] == "cpu"
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert len(device["device_ids"]) == 1  # one worker per GPU
    for worker in ("worker-gpu", "worker-cpu"):
        assert _seconds(services[worker]["stop_grace_period"]) > 30  # soft shutdown timeout
    assert services["redis"]["image"].startswith("redis:7.4")
    assert {"--appendonly", "yes", "--maxmemory-policy", "noeviction"} <= set(
        services["redis"]["command"]
    )
    assert services["postgres"]["image"] == "postgres:17"
    for name in ("migrate", "worker-gpu", "worker-cpu", "gradio", "streamlit"):
        assert "artifacts:/data/artifacts" in services[name]["volumes"], name


def test_environment_names_are_settings_fields(
    compose: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = {f"GENLENS_{name.upper()}" for name in Settings.model_fields}
    seen = set()
    for name in compose["services"]:
        variables = {
            key for key in service_environment(compose, name) if key.startswith("GENLENS_")
        }
        assert variables <= fields, (name, variables - fields)
        seen |= variables
    assert {"GENLENS_DATABASE_URL", "GENLENS_BROKER_URL", "GENLENS_ARTIFACT_DIR"} <= seen
    for key, value in service_environment(compose, "worker-gpu").items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # read from the environment, as in the container
    assert settings.device == "cuda" and settings.preload_models == ["efficientnet_lite0"]
    assert settings.database.startswith("postgresql+psycopg://genlens:")
    assert settings.broker.startswith("redis://:") and settings.broker.endswith("@redis:6379/0")


def test_secrets_are_required_and_env_is_not_committed() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "GENLENS_UI_PASSWORD"} <= required
    example = read_env_file(ENV_EXAMPLE)
    assert required <= set(example)
    without = {key: value for key, value in example.items() if key != "POSTGRES_PASSWORD"}
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        load_compose(without)
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
    assert ignored.returncode == 0
    assert "x-genlens" in raw_compose()  # shared settings live in one anchor
