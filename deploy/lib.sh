# shellcheck shell=bash
# Shared helpers for deploy/kafka.sh and deploy/postgres.sh. Source it, don't run it.
#
# Conventions used by both scripts:
#   * progress and errors go to stderr (log/warn/die), so that stdout only carries
#     machine-readable results (KEY=value lines, "running", a classpath) that callers
#     can capture with $(...) or eval;
#   * every wait is a poll with a deadline (wait_until), never a fixed sleep.

# Repository root = parent of the deploy/ folder holding this file, independent of the
# caller's working directory.
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
export REPO_ROOT

# Prefix for log lines; each script sets its own.
LOG_TAG="${LOG_TAG:-deploy}"

log()  { printf '%s: %s\n' "$LOG_TAG" "$*" >&2; }
warn() { printf '%s: WARNING: %s\n' "$LOG_TAG" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# Wall clock in seconds with microseconds (bash 5 $EPOCHREALTIME; no fork).
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }

# elapsed START -> seconds since START, one decimal ("3.4").
elapsed() {
    local start="$1" end
    end="$(now)"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}

# wait_until TIMEOUT_S INTERVAL_S DESCRIPTION CMD [ARGS...]
# Polls CMD every INTERVAL_S until it succeeds or TIMEOUT_S have elapsed.
# CMD's exit status: 0 = ready (return 0), 1 = not yet (poll again),
# anything else = give up immediately (e.g. the process we wait for has died).
# Returns 1 on timeout or give-up.
wait_until() {
    local timeout="$1" interval="$2" what="$3" start rc
    shift 3
    start="$(now)"
    while true; do
        rc=0
        "$@" || rc=$?
        if [[ $rc -eq 0 ]]; then
            return 0
        elif [[ $rc -ne 1 ]]; then
            warn "gave up waiting for $what (check returned $rc)"
            return 1
        fi
        if awk -v s="$start" -v n="$(now)" -v t="$timeout" 'BEGIN { exit !(n - s >= t) }'; then
            warn "timed out after ${timeout}s waiting for $what"
            return 1
        fi
        sleep "$interval"
    done
}

# seconds_left START TIMEOUT_S -> whole seconds remaining before the deadline (min 1).
seconds_left() {
    awk -v s="$1" -v n="$(now)" -v t="$2" 'BEGIN { r = int(t - (n - s)); print (r < 1 ? 1 : r) }'
}

# tcp_open HOST PORT -> 0 if something accepts TCP connections there.
# Uses bash's /dev/tcp in a child bash, bounded by `timeout` in case SYNs are dropped.
tcp_open() {
    # shellcheck disable=SC2016  # $1/$2 are expanded by the child bash, on purpose
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# pid_alive PID -> 0 if a process with that pid exists (and is not a zombie).
pid_alive() {
    local pid="$1" state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # a zombie still answers kill -0; treat it as dead
    state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != "Z" ]]
}

# pid_cmdline_has PID TEXT -> 0 if the process' command line contains TEXT.
# Guards against acting on a recycled pid from a stale pid file.
pid_cmdline_has() {
    local pid="$1" text="$2"
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$text"
}

# as_root CMD... -> run CMD as root (directly if we are root, else through sudo if present).
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (and sudo is not installed)"
    fi
}
