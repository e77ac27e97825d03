#!/usr/bin/env bash
# Builds docker.io/library/postgres:15 (the image deploy/base/postgres.yaml names) offline from
# Debian's postgresql-15 package, into $OUT (default bin/images/dev/postgres.tar): no registry
# serves postgres:15 on this machine. The image behaves as the official one where the base relies on it:
# runs as uid 999, PGDATA, POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB create the role and the
# database on an empty volume, pg_isready on PATH, listens on all addresses with password
# (scram-sha-256) authentication. Files: the server binaries, their shared libraries (ldd), the
# share directory, the time zone database, /bin/sh (dash) and an entrypoint written for it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-$ROOT/bin/images/dev/postgres.tar}"
PG=/usr/lib/postgresql/15
[ -f "$OUT" ] && [ "$OUT" -nt "$0" ] && { echo "postgres image present: $OUT"; exit 0; }
if [ ! -x "$PG/bin/postgres" ]; then
  echo "postgres-image: installing Debian's postgresql-15 (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fs="$work/rootfs"
mkdir -p "$fs"/{bin,etc,tmp,var/run/postgresql,var/lib/postgresql/data,usr/local/bin,usr/share}
bins=(postgres initdb pg_ctl pg_isready psql)
mkdir -p "$fs$PG/bin" "$fs$PG/lib"
for b in "${bins[@]}"; do cp -a "$PG/bin/$b" "$fs$PG/bin/"; done
cp -a "$PG"/lib/*.so "$fs$PG/lib/"
rm -f "$fs$PG/lib/llvmjit.so" # JIT is off without it; it would pull in LLVM (100 MB)
cp -a /usr/share/postgresql "$fs/usr/share/"
cp -a /usr/share/zoneinfo "$fs/usr/share/"
cp /bin/dash "$fs/bin/sh"
# shared libraries of everything above, at their own paths
{
  for f in "$fs$PG"/bin/* "$fs$PG"/lib/*.so "$fs/bin/sh"; do ldd "$f" 2>/dev/null || true; done
} | awk '/=> \//{print $3} /^[ \t]*\/.*ld-linux/{print $1}' | sort -u | while read -r lib; do
  mkdir -p "$fs$(dirname "$lib")"
  cp -L "$lib" "$fs$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$fs/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' >"$fs/etc/group"
cat >"$fs/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
# Initialises an empty $PGDATA (role $POSTGRES_USER with $POSTGRES_PASSWORD, database
# $POSTGRES_DB), then runs the server in the foreground. Only shell builtins: the image has no
# other tools.
set -e
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$POSTGRES_PASSWORD" ]; then echo "POSTGRES_PASSWORD is empty" >&2; exit 1; fi
  umask 077
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pwfile -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256
  : >/tmp/pwfile
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
    pg_ctl -D "$PGDATA" -m fast -w stop
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
SH
chmod 755 "$fs/usr/local/bin/docker-entrypoint.sh"
chown -R 999:999 "$fs/var/run/postgresql" "$fs/var/lib/postgresql"
chmod 1777 "$fs/tmp"
tar --numeric-owner -C "$fs" -cf "$work/layer.tar" .
mkdir -p "$(dirname "$OUT")"
(cd "$ROOT" && go run ./hack/node/rootfsimage --layer "$work/layer.tar" --tag docker.io/library/postgres:15 --out "$OUT" \
  --entrypoint /usr/local/bin/docker-entrypoint.sh --user 999:999 \
  --env "PATH=$PG/bin:/usr/local/bin:/bin" --env PGDATA=/var/lib/postgresql/data --env LANG=C)
echo "postgres image: $OUT ($(du -h "$OUT" | cut -f1))"
