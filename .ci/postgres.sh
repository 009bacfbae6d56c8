#!/usr/bin/env bash
# Make sure the local PostgreSQL server runs and create a fresh database for the test run.
# Prints the database URL on stdout; on a machine without PostgreSQL prints nothing (the
# PostgreSQL half of the suite is then skipped, except under CI=true, where pytest fails).
set -euo pipefail
db=${1:-innobridge_test}
if ! command -v pg_isready >/dev/null 2>&1; then
  echo "NOTICE: no PostgreSQL on this machine; its half of the suite will be skipped" >&2
  exit 0
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >&2
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db" >&2
echo "postgres://postgres@127.0.0.1:5432/$db"
