#!/bin/sh
# Run once by the postgres image on an empty data directory: one user and one database per
# service, the database owned by its user and closed to everyone else. Passwords come from the
# Secret `postgres` (<SERVICE>_PASSWORD).
set -eu
for service in intake routing surveys analytics; do
    password_var="$(echo "$service" | tr '[:lower:]' '[:upper:]')_PASSWORD"
    password="$(printenv "$password_var")"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v service="$service" -v password="$password" <<'SQL'
CREATE USER :"service" WITH PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
done
