#!/usr/bin/env bash
# Datastorage tests need PostgreSQL server binaries (they start a throwaway instance as the
# postgres user). Install them from Debian's packages when missing, unless a database URL is given.
set -euo pipefail
[ -n "${KUBERNAUT_TEST_DATABASE_URL:-}" ] && exit 0
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL server binaries (apt-get install postgresql)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
else
  echo "PostgreSQL server binaries are missing: install postgresql, or set KUBERNAUT_TEST_DATABASE_URL" >&2
  exit 1
fi
