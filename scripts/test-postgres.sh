#!/usr/bin/env bash
# Starts the machine's PostgreSQL (Debian's package) for the tests and makes a database
# and role for them; prints the JDBC URL. Safe to run again.
set -euo pipefail
ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
[ -n "$ver" ] || { echo "test-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver main"; then
  pg_createcluster "$ver" main >&2
fi
pg_ctlcluster "$ver" main start >&2 2>/dev/null || true   # (says so when already running)
for _ in $(seq 1 50); do
  su postgres -c "psql -tAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='cella_test'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE cella_test LOGIN PASSWORD 'cella_test'\""
su postgres -c "psql -qc 'DROP DATABASE IF EXISTS cella_test'" >&2
su postgres -c "psql -qc 'CREATE DATABASE cella_test OWNER cella_test'" >&2
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
echo "jdbc:postgresql://127.0.0.1:${port:-5432}/cella_test"
