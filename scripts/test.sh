#!/usr/bin/env bash
# Install dolisync with its test dependencies (pinned by requirements.lock) into .venv, make sure the
# servers and tools the suite uses are there (PostgreSQL for the scale-out tests, Debian's chromium for
# the dashboard's browser test), and run the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'

# Debian's chromium drives the dashboard test (Playwright never downloads a browser here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: install Debian's 'chromium' package (as root) for the browser tests" >&2
  fi
fi

# PostgreSQL for the scale-out tests (the machine's own server; DOLISYNC_TEST_POSTGRES_URL overrides).
if [ -z "${DOLISYNC_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
  fi
fi

exec .venv/bin/python -m pytest "$@"
