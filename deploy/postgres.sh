#!/usr/bin/env bash
# deploy/postgres.sh - a private PostgreSQL cluster for development and tests.
#
#   deploy/postgres.sh up       install PostgreSQL if needed, create/start the cluster,
#                               ensure role+database "callcenter"; prints DATABASE_URL=...
#   deploy/postgres.sh down     stop the cluster (fast shutdown)
#   deploy/postgres.sh status   print "running" and exit 0 if it is up, else exit 1
#   deploy/postgres.sh url      print the SQLAlchemy URL of the local cluster
#
# This is NOT Debian's system cluster (pg_lsclusters / port 5432): it is our own initdb'd
# data directory on its own port, so it never collides with, or changes, a system install.
#   as root:     /var/tmp/callcenter-postgres/{data,run,postgres.log}, processes run as the
#                "postgres" OS user (initdb and postgres refuse to run as root)
#   as non-root: $REPO/.local/postgres/{data,run,postgres.log}, processes run as you
# Authentication is "trust" (dev/test only); the callcenter role still gets a password so the
# same URL works against a password-protected server.
#
# Environment:
#   DATABASE_URL      if set, `up` does nothing: an external database is used; `url` prints it
#   POSTGRES_PORT     TCP port on 127.0.0.1 (default 55432)
#   POSTGRES_FAST=1   fsync/synchronous_commit/full_page_writes off (throw-away test data only)
#   POSTGRES_DIR      override the cluster folder (default: see above)
#   PG_BIN            folder holding initdb/pg_ctl/psql (default: newest /usr/lib/postgresql/*/bin)
#
# Stdout carries only results (DATABASE_URL=..., "running", the URL); progress goes to stderr.
set -euo pipefail

LOG_TAG="postgres"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

POSTGRES_PORT="${POSTGRES_PORT:-55432}"
DB_NAME="callcenter"
DB_USER="callcenter"
DB_PASSWORD="callcenter"
LOCAL_URL="postgresql+psycopg://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${POSTGRES_PORT}/${DB_NAME}"

if [[ $EUID -eq 0 ]]; then
    # Outside the repo: the postgres user must be able to traverse every parent folder,
    # which a checkout under /root or /work is not guaranteed to allow.
    PG_DIR="${POSTGRES_DIR:-/var/tmp/callcenter-postgres}"
    PG_OS_USER="postgres"
else
    PG_DIR="${POSTGRES_DIR:-$REPO_ROOT/.local/postgres}"
    PG_OS_USER="$(id -un)"
fi
PG_DATA="$PG_DIR/data"
PG_SOCKET_DIR="$PG_DIR/run"
PG_LOG="$PG_DIR/postgres.log"
# written after a successful initdb; a data dir without it is a half-done init to redo
PG_INIT_STAMP="$PG_DIR/.initialized"

# ---------------------------------------------------------------------------------------
# binaries
# ---------------------------------------------------------------------------------------

PG_BIN="${PG_BIN:-}"

# Pick the server binaries: an existing cluster keeps the major version it was created
# with (its data format is version-specific); otherwise the newest Debian-installed one.
find_pg_bin() {
    [[ -n "$PG_BIN" ]] && return 0
    local ver candidate
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        ver="$(<"$PG_DATA/PG_VERSION")"
        if [[ -x "/usr/lib/postgresql/$ver/bin/initdb" ]]; then
            PG_BIN="/usr/lib/postgresql/$ver/bin"
            return 0
        fi
    fi
    candidate="$(find_debian_initdb)"
    if [[ -n "$candidate" ]]; then
        PG_BIN="$(dirname -- "$candidate")"
        return 0
    fi
    return 1
}

find_debian_initdb() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true
}

# Install Debian's PostgreSQL if there is no initdb under /usr/lib/postgresql/*/bin.
# Note: the Debian package also creates its own system cluster (port 5432); we leave it alone.
ensure_postgres_installed() {
    [[ -n "$PG_BIN" || -n "$(find_debian_initdb)" ]] && return 0
    if command -v apt-get >/dev/null 2>&1; then
        log "PostgreSQL not found under /usr/lib/postgresql; installing Debian's postgresql package"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
        return 0
    fi
    # Not Debian: fall back to whatever initdb is on PATH (e.g. Homebrew).
    if command -v initdb >/dev/null 2>&1; then
        PG_BIN="$(dirname -- "$(command -v initdb)")"
        return 0
    fi
    die "PostgreSQL is not installed and apt-get is not available; install it or set PG_BIN"
}

# as_pg CMD...: run a server binary as the cluster's OS user. From / so that the postgres
# user does not complain about an unreadable working directory (e.g. /root).
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

run_pg_ctl() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }

# psql as the bootstrap superuser over the cluster's own unix socket (trust auth).
psql_admin() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$POSTGRES_PORT" \
        -U postgres -d postgres "$@"
}

# ---------------------------------------------------------------------------------------
# cluster
# ---------------------------------------------------------------------------------------

init_cluster() {
    if [[ -f "$PG_INIT_STAMP" && -f "$PG_DATA/PG_VERSION" ]]; then
        return 0
    fi
    if [[ -e "$PG_DATA" ]]; then
        warn "removing half-initialized data dir $PG_DATA (no $PG_INIT_STAMP)"
        rm -rf "$PG_DATA"
    fi
    if [[ $EUID -eq 0 ]]; then
        id -u "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' does not exist (it comes with Debian's postgresql package)"
    fi
    mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
    # 755: other local users may reach the socket; the data dir itself is 700 (initdb)
    chmod 755 "$PG_DIR" "$PG_SOCKET_DIR"
    if [[ $EUID -eq 0 ]]; then
        chown "$PG_OS_USER:" "$PG_DIR" "$PG_SOCKET_DIR"
    fi

    # C.UTF-8 where available: UTF-8 aware upper()/lower(), byte-order collation that does
    # not depend on the host's locales.
    local locale="C"
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale="C.UTF-8"
    fi
    log "creating cluster in $PG_DATA ($("$PG_BIN/postgres" --version), locale $locale)"
    # The bootstrap superuser is always "postgres", whoever runs the script.
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
            --encoding=UTF8 --locale="$locale" >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2
        die "initdb failed"
    fi
    # Our settings live in a separate file rewritten on every `up` (write_conf).
    printf "\n# deploy/postgres.sh settings\ninclude_if_exists = 'callcenter.conf'\n" \
        | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    touch "$PG_INIT_STAMP"
}

# Rewritten on every `up`, so POSTGRES_PORT / POSTGRES_FAST apply at the next start.
write_conf() {
    render_conf | as_pg tee "$PG_DATA/callcenter.conf" >/dev/null
}

render_conf() {
    local fast
    if [[ "${POSTGRES_FAST:-0}" == "1" ]]; then
        fast="# POSTGRES_FAST=1: durability off. Acceptable ONLY for this throw-away test cluster:
# a crash of the machine (not of postgres) can corrupt it; deploy/postgres.sh never runs
# with these settings unless asked to.
fsync = off
synchronous_commit = off
full_page_writes = off"
    else
        fast="# durable defaults (POSTGRES_FAST=1 turns fsync/synchronous_commit/full_page_writes off)"
    fi
    cat <<EOF
# Written by deploy/postgres.sh on every 'up'; change the script, not this file.
listen_addresses = '127.0.0.1'
port = ${POSTGRES_PORT}
unix_socket_directories = '${PG_SOCKET_DIR}'
# test suites open several pools at once
max_connections = 200
${fast}
EOF
}

# 0 if the cluster is running and accepting connections on our port.
is_running() {
    [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
    run_pg_ctl status >/dev/null 2>&1 || return 1
    "$PG_BIN/pg_isready" -q -h "$PG_SOCKET_DIR" -p "$POSTGRES_PORT"
}

# Role and database, idempotently: safe on every `up`, also repairs a changed password.
ensure_role_and_db() {
    psql_admin -f - <<EOF
SELECT 'CREATE ROLE ${DB_USER}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}')\\gexec
-- superuser: tests create and drop their own databases
ALTER ROLE ${DB_USER} WITH LOGIN SUPERUSER PASSWORD '${DB_PASSWORD}';
SELECT 'CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DB_NAME}')\\gexec
EOF
}

# Serialize concurrent up/down (e.g. two test sessions starting at once).
lock_cluster() {
    mkdir -p "$PG_DIR"
    exec 8>>"$PG_DIR/.lock"
    flock 8
}

# ---------------------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------------------

cmd_up() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        log "DATABASE_URL is set: using the external database, not starting one"
        printf 'DATABASE_URL=%s\n' "$DATABASE_URL"
        return 0
    fi
    local t0
    t0="$(now)"
    find_pg_bin || { ensure_postgres_installed; find_pg_bin || die "no initdb found after installing PostgreSQL"; }
    lock_cluster

    if is_running; then
        log "already running on 127.0.0.1:${POSTGRES_PORT} (data $PG_DATA)"
        if ! render_conf | cmp -s - "$PG_DATA/callcenter.conf"; then
            warn "it runs with other settings (POSTGRES_FAST?); 'deploy/postgres.sh down' then 'up' applies them"
        fi
    else
        init_cluster
        if tcp_open 127.0.0.1 "$POSTGRES_PORT"; then
            die "port $POSTGRES_PORT is in use by another process (ss -ltnp 'sport = :$POSTGRES_PORT'); set POSTGRES_PORT, or DATABASE_URL to use that server"
        fi
        # A running cluster on another port (POSTGRES_PORT changed): restart it with the new conf.
        if run_pg_ctl status >/dev/null 2>&1; then
            log "cluster runs with other settings; restarting it"
            run_pg_ctl -m fast -w stop >&2
        fi
        write_conf
        log "starting ($PG_BIN) on 127.0.0.1:${POSTGRES_PORT}, log $PG_LOG"
        # -w: pg_ctl itself waits until the server accepts connections.
        # 8>&-: the server must not inherit our lock.
        if ! run_pg_ctl -l "$PG_LOG" -w -t 60 start >&2 8>&-; then
            tail -n 50 "$PG_LOG" >&2 || true
            die "PostgreSQL did not start"
        fi
    fi
    ensure_role_and_db
    log "ready in $(elapsed "$t0") s"
    printf 'DATABASE_URL=%s\n' "$LOCAL_URL"
}

cmd_down() {
    if ! find_pg_bin || [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        log "not running (no cluster)"
        return 0
    fi
    lock_cluster
    if ! run_pg_ctl status >/dev/null 2>&1; then
        log "not running"
        return 0
    fi
    # fast: roll back open transactions and disconnect clients now, instead of waiting for
    # idle test connections to go away (smart mode).
    run_pg_ctl -m fast -w -t 60 stop >&2
}

cmd_status() {
    if find_pg_bin && is_running; then
        echo "running"
        return 0
    fi
    echo "stopped"
    return 1
}

cmd_url() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        printf '%s\n' "$DATABASE_URL"
    else
        printf '%s\n' "$LOCAL_URL"
    fi
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

main() {
    case "${1:-}" in
        up)      cmd_up ;;
        down)    cmd_down ;;
        status)  cmd_status ;;
        url)     cmd_url ;;
        -h|--help|help) usage ;;
        *)       usage >&2; exit 2 ;;
    esac
}

# Only when executed, so tests can source the functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
