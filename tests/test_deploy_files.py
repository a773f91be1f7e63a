"""CI checks of the deployment files without a Docker engine: docker-compose.yml against the
compose specification (check-jsonschema), docker/Dockerfile with hadolint, and the policies the
operations guide promises (loopback ports, healthchecks, GPU reservation, settings names)."""

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
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


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
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
