#!/bin/sh
# The compose file's PostgreSQL, first start only (the official image runs /docker-entrypoint-initdb.d/*.sh
# once, on an empty data volume): a login role and a database it owns for every service, so that each
# service has a database of its own that no other service's role may open.
#
#   SHOAL_SERVICE_DATABASES="orders:orders-password inventory:inventory-password ..."
#
# names each role (and its database) and its password; the services' DATABASE_URLs in docker-compose.yml
# use the same. The image's superuser (POSTGRES_USER) runs it, through psql's defaults (PGHOST/PGPORT when
# set, otherwise the server's local socket).
set -eu

for entry in ${SHOAL_SERVICE_DATABASES:?names no service database: expected "name:password ..."}; do
  name="${entry%%:*}"
  password="${entry#*:}"
  case "$name" in
    *[!a-z0-9_]* | "" | [0-9]*) echo "create-service-databases: '$name' is not a plain lower-case identifier" >&2; exit 2 ;;
  esac
  psql -v ON_ERROR_STOP=1 -v name="$name" -v password="$password" --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE CONNECT, TEMPORARY ON DATABASE :"name" FROM PUBLIC;
SQL
  echo "create-service-databases: role and database $name"
done
