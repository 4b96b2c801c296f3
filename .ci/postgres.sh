#!/usr/bin/env bash
# Installs PostgreSQL from the distribution's packages if it is missing,
# starts a cluster, creates the role `gc` and the database `gc_test`, and
# prints the database's URL. Run as root (CI, a fresh machine).
#
#   export GC_TEST_POSTGRES_URL=$(bash .ci/postgres.sh)
set -euo pipefail
# The server itself, not only the tools that postgresql-common brings.
if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' > /dev/null || ! command -v pg_ctlcluster > /dev/null; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
if [ -z "$(pg_lsclusters -h)" ]; then
    pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main >&2
fi
read -r version name port status _ < <(pg_lsclusters -h | head -n 1)
if [ "$status" != online ]; then
    pg_ctlcluster "$version" "$name" start >&2
fi
as_postgres() { runuser -u postgres -- "$@"; }
as_postgres psql -p "$port" -qX -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gc') THEN
        CREATE ROLE gc LOGIN SUPERUSER PASSWORD 'gc';
    END IF;
END \$\$;" >&2
if ! as_postgres psql -p "$port" -tAX -c "SELECT 1 FROM pg_database WHERE datname = 'gc_test'" | grep -q 1; then
    as_postgres createdb -p "$port" -O gc gc_test >&2
fi
echo "postgres://gc:gc@127.0.0.1:$port/gc_test"
