#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite and print its URL.
# Usage: eval "$(.ci/postgres.sh start DIR PORT)"; ...; .ci/postgres.sh stop DIR
set -euo pipefail
action=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
case "$action" in
  start)
    port=${3:-54329}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_postgres "'$bin/initdb' -D '$dir/data' -U postgres -A trust --no-sync -E UTF8 >'$dir/initdb.log'"
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    as_postgres "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres voortgang_test"
    echo "export VOORTGANG_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$port/voortgang_test"
    ;;
  stop)
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast stop >/dev/null" || true
    rm -rf "$dir"
    ;;
esac
