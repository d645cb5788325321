#!/usr/bin/env bash
# Start a throwaway PostgreSQL (Debian's postgresql package) on 127.0.0.1 for the store tests.
# Prints the SQLAlchemy URL to use as AFFECTLAB_TEST_PG_URL. Usage: scripts/start_postgres.sh [DIR] [PORT]
set -euo pipefail
dir=${1:-/tmp/affectlab-pg}
port=${2:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if ! id postgres >/dev/null 2>&1; then
  echo "no postgres user: install Debian's postgresql package first" >&2
  exit 1
fi
if [ ! -f "$dir/PG_VERSION" ]; then
  rm -rf "$dir" && mkdir -p "$dir" && chown postgres "$dir"
  su postgres -c "$bin/initdb -D '$dir' -A trust -U postgres" >/dev/null
fi
# take the first free port from $port on (another server may hold it)
for candidate in $(seq "$port" $((port + 100))); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
su postgres -c "$bin/pg_ctl -D '$dir' -o '-c listen_addresses=127.0.0.1 -p $port -k /tmp' -l '$dir/server.log' -w start" >/dev/null
echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
