"""Read ``docker-compose.yml`` the way ``docker compose`` does, for tests without a Docker
engine: YAML anchors and merge keys, then ``${VAR}`` interpolation of every string value from
an env file (``.env.example``), with compose's rules for ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}`` and ``$$`` (a literal ``$``)."""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(KeyError):
    """A ``${VAR:?message}`` variable is unset (compose refuses to start)."""


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """``KEY=VALUE`` lines of an env file (comments and blank lines skipped; a value in
    single quotes is taken literally, without the quotes)."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            pairs[key.strip()] = value
    return pairs


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute ``env`` into ``text`` like compose does."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        missing = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if missing else value
        if op in (":?", "?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return value
        return value or ""

    return _VARIABLE.sub(substitute, text)


def _resolve(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _resolve(value, env) for key, value in node.items()}
    return node


def raw_compose(path: Path = COMPOSE) -> dict[str, Any]:
    """The compose file with anchors and merge keys resolved, before interpolation."""
    return yaml.safe_load(path.read_text())


def load_compose(env: Mapping[str, str] | None = None, path: Path = COMPOSE) -> dict[str, Any]:
    """The compose file as ``docker compose config`` would see it with ``env`` (default: the
    values of ``.env.example``)."""
    return _resolve(raw_compose(path), read_env_file() if env is None else env)


def service_environment(compose: Mapping[str, Any], service: str) -> dict[str, str]:
    """A service's ``environment`` as strings (mapping or ``KEY=VALUE`` list form)."""
    environment = compose["services"][service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}
