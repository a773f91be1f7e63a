#!/usr/bin/env bash
# genlens developer entry point: installs what is missing, then runs the demo or the tests.
#   bash scripts/dev.sh demo    # worker + Gradio demo + Streamlit app on the embedded default
#   bash scripts/dev.sh test    # run the test suite (extra pytest arguments are passed on)
#   bash scripts/dev.sh install [DEBIAN-PACKAGE...]
#                               # only install, plus those packages (scripts/container-smoke.sh)
# Idempotent: the virtual environment in .venv is reused while pyproject.toml and the
# constraints file are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=.venv
APT_PACKAGES=(dataset-fashion-mnist redis-server postgresql chromium)

# Installs those of the given Debian packages that are missing (as root).
install_system_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root or apt-get install them)" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# A fresh .venv takes about 7 GB (PyTorch's CUDA build and its libraries).
VENV_NEEDS_GB=8

check_free_disk() {
  local free_gb mount
  read -r free_gb mount < <(df -Pk . | awk 'NR==2 {print int($4 / 1048576), $6}')
  if [ "$free_gb" -lt "$VENV_NEEDS_GB" ]; then
    echo "not enough disk space for $VENV: about $VENV_NEEDS_GB GB needed, $free_gb GB free on $mount" >&2
    exit 1
  fi
}

install_python_packages() {
  local stamp="$VENV/.genlens-install-stamp"
  local wanted
  wanted=$(cat pyproject.toml constraints.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    return 0
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    check_free_disk
    "$PYTHON" -m venv "$VENV"
  fi
  local log="$VENV/install.log"
  echo "installing Python packages into $VENV (first run takes a few minutes; log: $log)" >&2
  if ! {
    "$VENV/bin/python" -m pip install --upgrade pip &&
      "$VENV/bin/python" -m pip install -c constraints.txt -e '.[test]' &&
      "$VENV/bin/python" -m pip install --no-deps -r requirements-nodeps.txt
  } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "pip install failed; full log in $log" >&2
    exit 1
  fi
  echo "$wanted" >"$stamp"
}

command=${1:-}
shift || true
case "$command" in
  demo)
    install_system_packages "${APT_PACKAGES[@]}"
    install_python_packages
    exec "$VENV/bin/genlens" ui demo "$@"
    ;;
  test)
    install_system_packages "${APT_PACKAGES[@]}"
    install_python_packages
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/lint-imports"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  install)
    install_system_packages "${APT_PACKAGES[@]}" "$@"
    install_python_packages
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test|install [extra arguments]" >&2
    exit 2
    ;;
esac
