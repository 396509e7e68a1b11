#!/usr/bin/env bash
# deploy/kafka.sh - a local single-node Apache Kafka (KRaft, broker+controller in one JVM)
# run from jars resolved by Maven. No Docker, no tarball. Recipe: /work/shared/kafka-local.md
#
#   deploy/kafka.sh up                 start (or reuse) the broker; prints KAFKA_BOOTSTRAP_SERVERS=...
#   deploy/kafka.sh down               stop the broker started by `up`
#   deploy/kafka.sh status             print "running" and exit 0 if it is up, else exit 1
#   deploy/kafka.sh tool CLASS ARGS..  run a Kafka tool main class (TopicCommand, ConsoleConsumer,
#                                      ProducerPerformance, ...) with the cached classpath
#   deploy/kafka.sh classpath          print the classpath (resolving the jars if needed)
#
# Environment:
#   KAFKA_BOOTSTRAP_SERVERS   if set, `up` does nothing: an external broker is used (CI service, etc.)
#   KAFKA_VERSION             Kafka version to resolve (default 4.1.1)
#   KAFKA_PORT                client listener port (default 9092)
#   KAFKA_CONTROLLER_PORT     KRaft controller port (default 9093)
#   KAFKA_STATE_DIR           data, logs, config and pid file (default .local/kafka); with its
#                             own ports, a second broker beside the first (the fault suite's)
#   KAFKA_EXTRA_PROPERTIES    extra key=value server properties, separated by spaces or newlines,
#                             appended last (so they override the defaults below); values cannot
#                             contain whitespace
#   KAFKA_READY_TIMEOUT       seconds `up` waits for the broker to serve clients (default 90)
#   KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS   broker JVM options (same names as Kafka's scripts)
#   KAFKA_TOOL_JVM_OPTS       JVM options for `tool`
#   XDG_CACHE_HOME            jar cache root (default ~/.cache); jars live in
#                             $XDG_CACHE_HOME/callcenter/kafka-$KAFKA_VERSION/libs
#
# Stdout carries only results (KEY=value, "running", the classpath, tool output);
# progress goes to stderr.
set -euo pipefail

LOG_TAG="kafka"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"
BOOTSTRAP="localhost:${KAFKA_PORT}"

DEPLOY_DIR="$REPO_ROOT/deploy"
POM="$DEPLOY_DIR/kafka/pom.xml"
BROKER_LOG4J="$DEPLOY_DIR/kafka/log4j2.yaml"
TOOLS_LOG4J="$DEPLOY_DIR/kafka/tools-log4j2.yaml"

# Jars are cached outside the repo, keyed by version, so a clean CI clone (or `git clean`)
# does not re-resolve ~100 MB of jars; CI can cache this folder.
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/callcenter/kafka-${KAFKA_VERSION}"
LIBS_DIR="$CACHE_DIR/libs"
# Written only after a complete, checked resolution; holds the pom's checksum so that
# editing deploy/kafka/pom.xml (e.g. a log4j bump) triggers a fresh resolution.
LIBS_STAMP="$CACHE_DIR/libs.stamp"

# Per-checkout runtime state (ignored by git via .local/).
STATE_DIR="${KAFKA_STATE_DIR:-$REPO_ROOT/.local/kafka}"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
CONFIG_DIR="$STATE_DIR/config"
PID_FILE="$STATE_DIR/kafka.pid"
BROKER_OUT="$LOG_DIR/kafka.out"

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# Broker JVM: the heap the brief asks for, and the GC flags of Kafka's kafka-run-class.sh.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"

# ---------------------------------------------------------------------------------------
# jars
# ---------------------------------------------------------------------------------------

pom_checksum() { sha256sum "$POM" | awk '{ print $1 }'; }

libs_ready() {
    [[ -f "$LIBS_STAMP" ]] && grep -qxF "pom-sha256=$(pom_checksum)" "$LIBS_STAMP"
}

# check_libs DIR: fail if the resolved folder lacks what the broker and tools need, and warn
# about logging jars that would silently disable broker logging.
check_libs() {
    local dir="$1" jar
    for jar in "kafka_2.13-${KAFKA_VERSION}.jar" "kafka-tools-${KAFKA_VERSION}.jar" \
               "kafka-clients-${KAFKA_VERSION}.jar" "kafka-server-${KAFKA_VERSION}.jar"; do
        [[ -f "$dir/$jar" ]] || die "resolution incomplete: $jar missing in $dir"
    done
    # SLF4J 2 would ignore the SLF4J-1 binding log4j-slf4j-impl and log nothing; readiness
    # is checked with a client so the broker would still work, but without logs.
    if compgen -G "$dir/slf4j-api-2.*.jar" >/dev/null || compgen -G "$dir/log4j-slf4j2-impl-*.jar" >/dev/null; then
        warn "an SLF4J 2 jar was resolved; broker logging may be disabled (see kafka-local.md section 2)"
    fi
}

# Resolve the jars into the cache once per version. Safe against concurrent callers (flock)
# and interruption (resolve into a temporary folder, rename, then write the stamp).
resolve_jars() {
    libs_ready && return 0

    mkdir -p "$CACHE_DIR"
    exec 7>"$CACHE_DIR/.lock"
    flock 7
    if libs_ready; then          # another process finished while we waited for the lock
        exec 7>&-
        return 0
    fi

    command -v mvn >/dev/null 2>&1 || die "mvn not found; it is needed once to resolve the Kafka jars"
    local start tmp
    start="$(now)"
    tmp="$CACHE_DIR/libs.tmp.$$"
    rm -rf "$tmp"
    log "resolving Kafka ${KAFKA_VERSION} jars with Maven into $LIBS_DIR (first run only)"
    # mvn -q prints errors on stdout: send everything to stderr to keep our stdout clean.
    # Debian's Maven 3.8.7 writes bare ANSI resets ("ESC[0m") even in batch mode; strip them.
    # (pipefail makes the pipeline fail when mvn fails)
    if ! mvn -B -q -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 \
            | sed -e $'s/\x1b\\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
        rm -rf "$tmp"
        die "Maven could not resolve the Kafka ${KAFKA_VERSION} jars"
    fi
    check_libs "$tmp"
    rm -rf "$LIBS_DIR"
    mv "$tmp" "$LIBS_DIR"
    printf 'kafka-version=%s\npom-sha256=%s\n' "$KAFKA_VERSION" "$(pom_checksum)" >"$LIBS_STAMP"
    exec 7>&-
    log "resolved $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1)) in $(elapsed "$start") s"
}

# Explicit, sorted jar list (like Kafka's kafka-run-class.sh) rather than "libs/*", whose
# expansion order is unspecified; a fixed order keeps class loading deterministic.
classpath() {
    local jars=("$LIBS_DIR"/*.jar)
    local IFS=:
    printf '%s' "${jars[*]}"
}

# tool_command CLASS ARGS... : set TOOL_CMD to the java command line running a Kafka tool
# main class (run_tool runs it as a child, cmd_tool execs it).
TOOL_CMD=()
tool_command() {
    local class="$1" opts
    shift
    if [[ -n "${KAFKA_TOOL_JVM_OPTS:-}" ]]; then
        opts="$KAFKA_TOOL_JVM_OPTS"
    elif [[ "$class" == *Performance* || "$class" == *EndToEndLatency* ]]; then
        # benchmarks: full JIT and a bigger heap, or the numbers would measure the JVM
        opts="-Xmx512m -XX:+UseG1GC -Djava.awt.headless=true"
    else
        # short-lived CLI tools: C1 only and serial GC cut start-up CPU on small machines
        opts="-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"
    fi
    local -a jvm
    read -ra jvm <<<"$opts"
    TOOL_CMD=("$JAVA" "${jvm[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$(classpath)" "$class" "$@")
}

run_tool() {
    tool_command "$@"
    "${TOOL_CMD[@]}"
}

# ---------------------------------------------------------------------------------------
# broker configuration
# ---------------------------------------------------------------------------------------

# KAFKA_EXTRA_PROPERTIES -> one key=value per line (whitespace separates entries).
extra_properties() {
    local -a items=()
    local kv
    read -ra items -d '' <<<"${KAFKA_EXTRA_PROPERTIES:-}" || true
    for kv in "${items[@]}"; do
        [[ "$kv" == ?*=* ]] || die "KAFKA_EXTRA_PROPERTIES: '$kv' is not key=value"
        printf '%s\n' "$kv"
    done
}

# What every single-node broker of ours has: its data directory, internal topics with replication
# factor 1, fast first group joins, small thread pools (used by deploy/kafka-secure.sh too).
single_node_properties() {
    cat <<EOF
# ---- storage (wiped on every fresh start) ----
log.dirs=${DATA_DIR}

# ---- single node: internal topics with replication factor 1 ----
offsets.topic.replication.factor=1
# default is 50 partitions; 1 makes the first consumer-group join much cheaper
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
num.partitions=1
# no 3 s wait before the first group rebalance
group.initial.rebalance.delay.ms=0

# ---- small machine ----
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
# default 128 MiB is allocated on the heap by the log cleaner; 16 MiB suits a <1 GiB heap
log.cleaner.dedupe.buffer.size=16777216
EOF
}

# Single KRaft combined node with a static voter (kafka-local.md 4A): the format step then
# needs no quorum flag in any 4.x version.
render_server_properties() {
    cat <<EOF
# Generated by deploy/kafka.sh - edits are overwritten on the next fresh start.
# Use KAFKA_EXTRA_PROPERTIES to add or override settings.

# ---- KRaft combined node ----
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
controller.listener.names=CONTROLLER

# ---- listeners: loopback only, this is a dev/test broker ----
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://localhost:${KAFKA_PORT}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

$(single_node_properties)

# ---- test behaviour ----
auto.create.topics.enable=true
EOF
    local extra
    extra="$(extra_properties)"
    if [[ -n "$extra" ]]; then
        printf '\n# ---- KAFKA_EXTRA_PROPERTIES (last value wins) ----\n%s\n' "$extra"
    fi
}

# A random cluster id in Kafka's format (16 random bytes, base64url, no padding = 22 chars).
# Done in bash to save a JVM start (StorageTool random-uuid). Ids starting with '-' are
# skipped, as Kafka's Uuid.randomUuid() does, since the CLI would take them for an option.
random_cluster_id() {
    local id
    while true; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$id" != -* ]] && break
    done
    printf '%s' "$id"
}

# ---------------------------------------------------------------------------------------
# broker process
# ---------------------------------------------------------------------------------------

# Pid of the broker this script started, if it is still alive; empty otherwise.
broker_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 0
    pid="$(<"$PID_FILE")"
    if pid_alive "$pid" && pid_cmdline_has "$pid" "kafka.Kafka"; then
        printf '%s' "$pid"
    fi
}

# Probe used while waiting: 0 ready, 1 not yet, 2 broker died.
# A client metadata request is the real test (the log line depends on optional logging
# jars). The cheap port check comes first so we do not start a JVM every 0.5 s while
# the broker is still booting. Once the port is bound, requests queue until the broker
# enables request processing, so one TopicCommand usually succeeds on the first try.
READY_START=""
# Extra client properties of the probe (the secured broker's script adds its SASL/TLS ones).
client_properties() { :; }
probe_ready() {
    local pid="$1" left
    pid_alive "$pid" || return 2
    tcp_open 127.0.0.1 "$KAFKA_PORT" || return 1
    left="$(seconds_left "$READY_START" "$KAFKA_READY_TIMEOUT")"
    (( left > 30 )) && left=30
    {
        printf 'default.api.timeout.ms=%s\nrequest.timeout.ms=5000\n' "$((left * 1000))"
        client_properties
    } >"$CONFIG_DIR/probe-admin.properties"
    timeout --kill-after=5 "$left" \
        bash "$0" tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --command-config "$CONFIG_DIR/probe-admin.properties" --list >/dev/null 2>>"$LOG_DIR/probe.err" || return 1
}

wait_ready() {
    local pid="$1"
    READY_START="$(now)"
    : >"$LOG_DIR/probe.err"
    if ! wait_until "$KAFKA_READY_TIMEOUT" 0.5 "the broker to answer on $BOOTSTRAP" probe_ready "$pid"; then
        warn "broker not ready; last 50 lines of $BROKER_OUT:"
        tail -n 50 "$BROKER_OUT" >&2 || true
        if [[ -s "$LOG_DIR/probe.err" ]]; then
            warn "last client probe errors ($LOG_DIR/probe.err):"
            tail -n 10 "$LOG_DIR/probe.err" >&2 || true
        fi
        return 1
    fi
}

start_broker() {
    local -a heap perf
    read -ra heap <<<"$KAFKA_HEAP_OPTS"
    read -ra perf <<<"$KAFKA_JVM_PERFORMANCE_OPTS"
    # setsid + nohup: the broker outlives the shell (and process group) that ran `up`,
    # e.g. a test harness that kills its whole group. fd 8 (our lock) is closed so the
    # broker does not hold it forever. Output goes to a file so that `$(kafka.sh up)`
    # does not wait for the broker's stdout to close.
    setsid nohup "$JAVA" "${heap[@]}" "${perf[@]}" \
        "-Xlog:gc*:file=$LOG_DIR/kafkaServer-gc.log:time,tags:filecount=5,filesize=20M" \
        -Dkafka.logs.dir="$LOG_DIR" \
        -Dlog4j2.configurationFile="$BROKER_LOG4J" \
        -cp "$(classpath)" kafka.Kafka "$CONFIG_DIR/server.properties" \
        >"$BROKER_OUT" 2>&1 </dev/null 8>&- &
    printf '%s\n' "$!" >"$PID_FILE"
}

print_bootstrap() { printf 'KAFKA_BOOTSTRAP_SERVERS=%s\n' "$BOOTSTRAP"; }

# Serialize up/down of this checkout's broker (two test sessions calling `up` at once).
lock_state() {
    mkdir -p "$STATE_DIR"
    exec 8>"$STATE_DIR/.lock"
    flock 8
}

# ---------------------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------------------

cmd_up() {
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        log "KAFKA_BOOTSTRAP_SERVERS is set: using the external broker at $KAFKA_BOOTSTRAP_SERVERS, not starting one"
        printf 'KAFKA_BOOTSTRAP_SERVERS=%s\n' "$KAFKA_BOOTSTRAP_SERVERS"
        return 0
    fi
    lock_state

    local pid
    pid="$(broker_pid)"
    if [[ -n "$pid" ]]; then
        if tcp_open 127.0.0.1 "$KAFKA_PORT"; then
            log "broker already running (pid $pid) on $BOOTSTRAP"
        else
            # alive but not listening yet: an earlier `up` was interrupted while it started
            log "broker pid $pid is alive but not answering yet; waiting for it"
            wait_ready "$pid" || exit 1
        fi
        if ! render_server_properties | cmp -s - "$CONFIG_DIR/server.properties"; then
            warn "the running broker was started with different settings; run 'deploy/kafka.sh down' first to apply them"
        fi
        print_bootstrap
        return 0
    fi
    rm -f "$PID_FILE"

    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if tcp_open 127.0.0.1 "$port"; then
            die "port $port is already in use by a process this script did not start (see: ss -ltnp 'sport = :$port'). To use that broker, set KAFKA_BOOTSTRAP_SERVERS; or pick KAFKA_PORT/KAFKA_CONTROLLER_PORT."
        fi
    done

    local t0 t_jars t_format t_ready
    t0="$(now)"
    resolve_jars
    t_jars="$(elapsed "$t0")"

    mkdir -p "$LOG_DIR" "$CONFIG_DIR"
    render_server_properties >"$CONFIG_DIR/server.properties"

    # Fresh storage every start: tests must not see topics from a previous run.
    local t1
    t1="$(now)"
    rm -rf "$DATA_DIR"
    run_tool kafka.tools.StorageTool format -t "$(random_cluster_id)" \
        -c "$CONFIG_DIR/server.properties" >"$LOG_DIR/format.out" 2>&1 \
        || { cat "$LOG_DIR/format.out" >&2; die "formatting $DATA_DIR failed"; }
    t_format="$(elapsed "$t1")"

    local t2
    t2="$(now)"
    start_broker
    pid="$(<"$PID_FILE")"
    log "broker starting (pid $pid, logs in $LOG_DIR), waiting up to ${KAFKA_READY_TIMEOUT}s"
    if ! wait_ready "$pid"; then
        if pid_alive "$pid"; then
            die "broker did not become ready in ${KAFKA_READY_TIMEOUT}s; it is still running (pid $pid): 'deploy/kafka.sh down' stops it"
        fi
        rm -f "$PID_FILE"
        die "broker exited during start-up (see the log above, full log: $BROKER_OUT)"
    fi
    t_ready="$(elapsed "$t2")"

    if ! grep -q 'Kafka Server started' "$BROKER_OUT"; then
        warn "'Kafka Server started' not in $BROKER_OUT (logging misconfigured?), but clients are served"
    fi
    log "ready in $(elapsed "$t0") s (jars ${t_jars} s, format ${t_format} s, start to ready ${t_ready} s)"
    print_bootstrap
}

cmd_down() {
    lock_state
    local pid
    if [[ ! -f "$PID_FILE" ]]; then
        log "not running (no pid file)"
        return 0
    fi
    pid="$(<"$PID_FILE")"
    if ! pid_alive "$pid"; then
        log "not running (stale pid file removed)"
        rm -f "$PID_FILE"
        return 0
    fi
    if ! pid_cmdline_has "$pid" "kafka.Kafka"; then
        warn "pid $pid from $PID_FILE is not a Kafka broker (pid reused?); not killing it"
        rm -f "$PID_FILE"
        return 0
    fi

    local start
    start="$(now)"
    log "stopping broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    # Kafka's shutdown hook does a controlled shutdown; give it time before forcing.
    if ! wait_until 30 0.5 "broker pid $pid to exit" not_alive "$pid"; then
        warn "broker ignored SIGTERM for 30 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 10 0.2 "broker pid $pid to die" not_alive "$pid" || die "pid $pid survived SIGKILL"
    fi
    rm -f "$PID_FILE"
    log "stopped in $(elapsed "$start") s"
}

not_alive() { ! pid_alive "$1"; }

cmd_status() {
    local pid
    pid="$(broker_pid)"
    if [[ -n "$pid" ]] && tcp_open 127.0.0.1 "$KAFKA_PORT"; then
        echo "running"
        log "pid $pid, $BOOTSTRAP"
        return 0
    fi
    echo "stopped"
    return 1
}

cmd_tool() {
    [[ $# -ge 1 ]] || die "usage: deploy/kafka.sh tool CLASS [ARGS...]"
    resolve_jars
    tool_command "$@"
    # exec: signals (test timeouts, Ctrl-C) and the exit status go straight to the JVM
    exec "${TOOL_CMD[@]}"
}

cmd_classpath() {
    resolve_jars
    classpath
    echo
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        up)         cmd_up ;;
        down)       cmd_down ;;
        status)     cmd_status ;;
        tool)       cmd_tool "$@" ;;
        classpath)  cmd_classpath ;;
        -h|--help|help) usage ;;
        *)          usage >&2; exit 2 ;;
    esac
}

# deploy/kafka-secure.sh sources this file for its functions, then runs its own main.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
