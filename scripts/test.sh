#!/usr/bin/env bash
# Install dolisync with its test dependencies (pinned by requirements.lock) into .venv and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
exec .venv/bin/python -m pytest "$@"
