#!/usr/bin/env bash
# `make run`: the four services on their fixed ports (intake 8001, routing 8002, surveys 8003,
# analytics 8004) against the local broker, SQLite as the projection store, and a small stream
# of demo calls so the numbers move. Ctrl-C stops the services (the broker keeps running;
# `make infra-down` stops it).
set -euo pipefail
LOG_TAG=run
# shellcheck source=deploy/lib.sh
source "$(dirname "$0")/lib.sh"

UV="${UV:-$(command -v uv || echo python3 -m uv)}"
RUN_DIR="$REPO_ROOT/.local/run"
mkdir -p "$RUN_DIR"

if [[ -z "${CALLCENTER_OPERATOR_TOKEN:-}" ]]; then
    export CALLCENTER_OPERATOR_TOKEN="dev-operator-token"
    log "CALLCENTER_OPERATOR_TOKEN was unset; using the development value: $CALLCENTER_OPERATOR_TOKEN"
fi
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$RUN_DIR/analytics.sqlite3}"

declare -A PORTS=([intake]=8001 [routing]=8002 [surveys]=8003 [analytics]=8004)
PIDS=()

stop_services() {
    trap - INT TERM EXIT
    log "stopping the services (graceful: SIGTERM)"
    local index
    for ((index = ${#PIDS[@]} - 1; index >= 0; index--)); do  # the demo first, then the services
        kill -TERM "${PIDS[index]}" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    log "stopped; the broker still runs (make infra-down stops it)"
}
trap stop_services INT TERM EXIT

ready() { curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0; return 1; }

for service in intake routing surveys analytics; do
    port="${PORTS[$service]}"
    if ready "$port"; then die "port $port is already serving; is another 'make run' running?"; fi
    $UV run --frozen python -m "$service" >"$RUN_DIR/$service.log" 2>&1 &
    PIDS+=("$!")
done
for service in intake routing surveys analytics; do
    wait_until 90 0.2 "$service to be ready" ready "${PORTS[$service]}" \
        || die "$service did not become ready; see $RUN_DIR/$service.log"
done

cat >&2 <<MSG

  The platform is running (logs in .local/run/):
    intake     http://127.0.0.1:8001/docs   POST /v1/calls
    routing    http://127.0.0.1:8002/docs
    surveys    http://127.0.0.1:8003/docs
    analytics  http://127.0.0.1:8004/docs   KPIs, agents, surveys, queues now, projections
  Operator token: Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN
  The analysts' dashboard: http://127.0.0.1:8004/dashboard (sign in with the operator token
  and pick a tenant, or with a tenant's key holding analytics:read, made with
  POST http://127.0.0.1:8001/v1/tenants/acme-energy/api-keys {"scopes": ["analytics:read"]})
  KPIs of the demo (service level, ASA, AHT, abandonment, FCR; add &group_by=topic,agent):
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' \\
      'http://127.0.0.1:8004/v1/analytics/calls?interval=hour' | python3 -m json.tool
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' -H 'Accept: text/csv' \\
      'http://127.0.0.1:8004/v1/analytics/calls?interval=hour&group_by=topic'
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' http://127.0.0.1:8004/v1/analytics/realtime
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' 'http://127.0.0.1:8004/v1/analytics/agents?interval=hour'
  Rebuild a projection from the whole history while analytics keeps answering (then watch
  GET /v1/projections, or 'projections status'):
    DATABASE_URL=$DATABASE_URL $UV run --frozen python -m analytics projections rebuild calls

  Demo calls are flowing to 10 simulated agents, who accept (mostly), talk, hang up and
  wrap up. Watch the queues form and drain, and ask routing why a call went where it went:
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' http://127.0.0.1:8002/v1/queues
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' http://127.0.0.1:8002/v1/agents/demo-agent-0
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' http://127.0.0.1:8002/v1/calls/<call_id>/routing
  A survey campaign for acme-energy phones its consenting customers in the north and east
  (three agents have the skill campaign and record the answers); after each acme-energy call
  the caller gets the post-call survey. The campaign's progress (id printed below):
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' http://127.0.0.1:8003/v1/campaigns/<campaign_id>
  and what the customers answered, by question, campaign, agent or target group:
    curl -s -H 'Authorization: Bearer $CALLCENTER_OPERATOR_TOKEN' \\
      'http://127.0.0.1:8004/v1/analytics/surveys/<survey_id>?group_by=question,segment.region'
  Ctrl-C stops everything.

MSG
export DEMO_SURVEYS_FILE="$RUN_DIR/demo_surveys.json"
$UV run --frozen python "$REPO_ROOT/deploy/demo_agents.py" &
PIDS+=("$!")
$UV run --frozen python "$REPO_ROOT/deploy/demo_surveys.py" &
PIDS+=("$!")
$UV run --frozen python "$REPO_ROOT/deploy/demo_calls.py" &
PIDS+=("$!")
wait "${PIDS[@]}"
