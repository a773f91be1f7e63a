#!/usr/bin/env bash
# The deployment check (README, "Deployment"): builds docker/Dockerfile and runs docker-compose.yml
# with podman on this host, then tears it down; writes bench/results/deploy.json.
#   bash scripts/container-smoke.sh [--rebuild-base] [--no-cache] [--keep] [--out FILE]
# Installs what is missing first: podman and the tools to build a Debian base image (Debian's
# packages), podman-compose (PyPI, pinned in constraints.txt) and the project's .venv.
# Needs root (a rootful podman), about 30 GB of disk and, on a fresh host, about 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

# runc: Debian 12's crun fails on hosts with cgroup v1 and v2 (scripts/container_smoke.py);
# catatonit: the compose file's `init: true`.
ENGINE_PACKAGES=(podman runc catatonit containernetworking-plugins mmdebstrap)

bash scripts/dev.sh install "${ENGINE_PACKAGES[@]}"
.venv/bin/python -m pip install -q -c constraints.txt podman-compose
PATH="$PWD/.venv/bin:$PATH" exec .venv/bin/python scripts/container_smoke.py "$@"
