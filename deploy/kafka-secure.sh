#!/usr/bin/env bash
# deploy/kafka-secure.sh - a second local Kafka broker that enforces what the platform's
# KafkaUsers enforce in Kubernetes: TLS, SASL/SCRAM logins and ACLs (KRaft StandardAuthorizer).
# Same jars and functions as deploy/kafka.sh; its own ports, state and data under .local/.
#
#   deploy/kafka-secure.sh up        start it (or reuse the running one, provisioning it again):
#                                    a fresh CA and broker certificate,
#                                    SCRAM-SHA-512 users admin + one per service (random
#                                    passwords), then the platform's topics and each service's
#                                    ACLs (python -m callcenter_events.provisioning).
#                                    Prints the client settings as KEY=value lines.
#   deploy/kafka-secure.sh down      stop it
#   deploy/kafka-secure.sh status    "running" (exit 0) or "stopped" (exit 1)
#   deploy/kafka-secure.sh env USER  the settings a client logged in as USER needs (KEY=value)
#   deploy/kafka-secure.sh tool CLASS ARGS..   a Kafka tool main class (see deploy/kafka.sh)
#
# Listeners: SASL_SSL on 127.0.0.1:$KAFKA_SECURE_PORT (default 19092, advertised as localhost,
# which the certificate names) for clients and the broker itself (as admin); the KRaft
# controller on 127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT (default 19093) in PLAINTEXT, because
# a controller listener cannot use SCRAM (the credentials live in the metadata it serves). The
# broker reaches its controller there as User:ANONYMOUS, which is therefore a super user with
# admin; clients can only log in through SASL_SSL, where ANONYMOUS does not exist.
#
# Environment: KAFKA_SECURE_PORT, KAFKA_SECURE_CONTROLLER_PORT, CALLCENTER_PYTHON (the Python
# with the project installed; default .venv/bin/python), and deploy/kafka.sh's KAFKA_VERSION,
# KAFKA_READY_TIMEOUT, KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, XDG_CACHE_HOME.
# KAFKA_BOOTSTRAP_SERVERS is ignored: this broker is always local.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=kafka.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/kafka.sh"
LOG_TAG="kafka-secure"

KAFKA_PORT="${KAFKA_SECURE_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_SECURE_CONTROLLER_PORT:-19093}"
BOOTSTRAP="localhost:${KAFKA_PORT}"
STATE_DIR="$REPO_ROOT/.local/kafka-secure"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
CONFIG_DIR="$STATE_DIR/config"
PID_FILE="$STATE_DIR/kafka.pid"
BROKER_OUT="$LOG_DIR/kafka.out"
TLS_DIR="$STATE_DIR/tls"
CREDENTIALS="$STATE_DIR/credentials"
PYTHON="${CALLCENTER_PYTHON:-$REPO_ROOT/.venv/bin/python}"
MECHANISM="SCRAM-SHA-512"
# The platform's services (callcenter_events.access.SERVICES; provisioning checks they match).
USERS=(admin intake routing surveys analytics)

# ---------------------------------------------------------------------------------------
# secrets: CA, broker certificate, passwords (all made anew on every fresh start)
# ---------------------------------------------------------------------------------------

random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }

password_of() {
    local user="$1" line
    [[ -f "$CREDENTIALS" ]] || die "no credentials: start the broker first (deploy/kafka-secure.sh up)"
    line="$(grep -m1 "^${user}=" "$CREDENTIALS")" || die "no user $user in $CREDENTIALS"
    printf '%s' "${line#*=}"
}

make_credentials() {
    local user
    (
        umask 077
        for user in "${USERS[@]}"; do printf '%s=%s\n' "$user" "$(random_secret)"; done >"$CREDENTIALS"
        printf '%s\n' "$(random_secret)" >"$TLS_DIR/store-password"
    )
}

# A throwaway CA and a broker certificate for localhost / 127.0.0.1, in a PKCS12 keystore.
make_tls() {
    local store_password
    store_password="$(<"$TLS_DIR/store-password")"
    (
        cd "$TLS_DIR"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=callcenter-local-ca" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
            "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid,issuer" >broker.ext
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
            -extfile broker.ext -out broker.pem
        openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
            -out broker.p12 -passout "pass:$store_password"
        chmod 644 ca.pem
    ) >"$LOG_DIR/tls.out" 2>&1 || { cat "$LOG_DIR/tls.out" >&2; die "making the TLS certificates failed"; }
}

# ---------------------------------------------------------------------------------------
# broker configuration (overrides deploy/kafka.sh's)
# ---------------------------------------------------------------------------------------

jaas_of() {
    printf 'org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";' \
        "$1" "$(password_of "$1")"
}

render_server_properties() {
    local store_password
    store_password="$(<"$TLS_DIR/store-password")"
    cat <<EOF
# Generated by deploy/kafka-secure.sh - rewritten on every fresh start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
controller.listener.names=CONTROLLER

listeners=SASL_SSL://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=SASL_SSL://localhost:${KAFKA_PORT}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL

# ---- SASL/SCRAM (users are created by 'kafka-storage format --add-scram') ----
sasl.enabled.mechanisms=${MECHANISM}
sasl.mechanism.inter.broker.protocol=${MECHANISM}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$(jaas_of admin)

# ---- TLS: the broker's certificate; the CA to trust when it connects to itself ----
ssl.keystore.type=PKCS12
ssl.keystore.location=${TLS_DIR}/broker.p12
ssl.keystore.password=${store_password}
ssl.key.password=${store_password}
ssl.truststore.type=PEM
ssl.truststore.location=${TLS_DIR}/ca.pem
ssl.client.auth=none

# ---- ACLs ----
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:ANONYMOUS

$(single_node_properties)

# topics come from provisioning only (as from Strimzi's KafkaTopics)
auto.create.topics.enable=false
EOF
}

# The readiness probe (deploy/kafka.sh probe_ready) logs in as admin.
client_properties() {
    printf '%s\n' "security.protocol=SASL_SSL" "sasl.mechanism=${MECHANISM}" \
        "sasl.jaas.config=$(jaas_of admin)" "ssl.truststore.type=PEM" \
        "ssl.truststore.location=${TLS_DIR}/ca.pem"
}

# ---------------------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------------------

# client_env USER: the variables of callcenter_events.connection for USER.
client_env() {
    printf '%s\n' "KAFKA_BOOTSTRAP_SERVERS=${BOOTSTRAP}" "KAFKA_SECURITY_PROTOCOL=SASL_SSL" \
        "KAFKA_SASL_MECHANISM=${MECHANISM}" "KAFKA_SSL_CAFILE=${TLS_DIR}/ca.pem" \
        "KAFKA_SASL_USERNAME=$1" "KAFKA_SASL_PASSWORD=$(password_of "$1")"
}

print_settings() {
    printf '%s\n' "KAFKA_BOOTSTRAP_SERVERS=${BOOTSTRAP}" "KAFKA_SECURITY_PROTOCOL=SASL_SSL" \
        "KAFKA_SASL_MECHANISM=${MECHANISM}" "KAFKA_SSL_CAFILE=${TLS_DIR}/ca.pem" \
        "KAFKA_CREDENTIALS_FILE=${CREDENTIALS}"
}

format_storage() {
    local -a scram=()
    local user
    for user in "${USERS[@]}"; do
        scram+=(--add-scram "${MECHANISM}=[name=${user},password=$(password_of "$user")]")
    done
    rm -rf "$DATA_DIR"
    run_tool kafka.tools.StorageTool format -t "$(random_cluster_id)" \
        -c "$CONFIG_DIR/server.properties" "${scram[@]}" >"$LOG_DIR/format.out" 2>&1 \
        || { cat "$LOG_DIR/format.out" >&2; die "formatting $DATA_DIR failed"; }
}

# Topics and each service's ACLs, made through the broker as admin (idempotent).
provision() {
    [[ -x "$PYTHON" ]] || die "no Python at $PYTHON: run 'make bootstrap' (or set CALLCENTER_PYTHON)"
    (
        while IFS= read -r kv; do export "${kv?}"; done < <(client_env admin)
        "$PYTHON" -m callcenter_events.provisioning --credentials "$CREDENTIALS"
    ) >"$LOG_DIR/provision.out" 2>&1 || { cat "$LOG_DIR/provision.out" >&2; die "provisioning topics and ACLs failed"; }
}

cmd_up_secure() {
    lock_state
    local pid
    pid="$(broker_pid)"
    if [[ -n "$pid" ]] && tcp_open 127.0.0.1 "$KAFKA_PORT"; then
        log "secured broker already running (pid $pid) on $BOOTSTRAP; provisioning again"
        provision
        print_settings
        return 0
    elif [[ -n "$pid" ]]; then
        die "broker pid $pid is alive but not answering; 'deploy/kafka-secure.sh down' first"
    fi
    rm -f "$PID_FILE"
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        tcp_open 127.0.0.1 "$port" && die "port $port is in use (set KAFKA_SECURE_PORT / KAFKA_SECURE_CONTROLLER_PORT)"
    done

    local t0
    t0="$(now)"
    resolve_jars
    rm -rf "$TLS_DIR"
    mkdir -p "$LOG_DIR" "$CONFIG_DIR" "$TLS_DIR"
    make_credentials
    make_tls
    (umask 077; render_server_properties >"$CONFIG_DIR/server.properties")
    format_storage
    start_broker
    pid="$(<"$PID_FILE")"
    log "secured broker starting (pid $pid, logs in $LOG_DIR)"
    if ! wait_ready "$pid"; then
        pid_alive "$pid" || rm -f "$PID_FILE"
        die "secured broker not ready (full log: $BROKER_OUT); 'deploy/kafka-secure.sh down' stops it"
    fi
    provision
    log "ready and provisioned in $(elapsed "$t0") s"
    print_settings
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        up)     cmd_up_secure ;;
        down)   cmd_down ;;
        status) cmd_status ;;
        env)    [[ $# -eq 1 ]] || die "usage: deploy/kafka-secure.sh env USER"; client_env "$1" ;;
        tool)   cmd_tool "$@" ;;
        -h|--help|help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" ;;
        *)      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
    esac
}

main "$@"
