#!/usr/bin/env bash
# A local production-shaped cluster: PostgreSQL, two silos and a gateway (cluster client) on this machine.
#   deploy/local/cluster.sh start   -> gateway on http://localhost:5080 (admin key: $AGENTDESK_ADMIN_KEY, default change-me-local-admin-key)
#   deploy/local/cluster.sh stop
# Logs and pids go to /tmp/agentdesk-cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=/tmp/agentdesk-cluster
mkdir -p "$RUN"

case "${1:-start}" in
  start)
    export AgentDesk__Cluster__Mode=Postgres
    export AgentDesk__Cluster__ConnectionString="$(deploy/local/postgres.sh start)"
    export AgentDesk__Cluster__ClusterId=${CLUSTER_ID:-agentdesk-local}
    export AgentDesk__Cluster__ServiceId=${CLUSTER_ID:-agentdesk-local}
    dotnet build src/AgentDesk.Gateway -c Release -nologo -v quiet -clp:ErrorsOnly
    for i in 0 1; do
      AgentDesk__Cluster__SiloPort=$((11111 + i)) AgentDesk__Cluster__GatewayPort=$((30000 + i)) \
        nohup dotnet src/AgentDesk.Silo/bin/Release/net10.0/AgentDesk.Silo.dll > "$RUN/silo$i.log" 2>&1 &
      echo $! > "$RUN/silo$i.pid"
    done
    AgentDesk__Auth__AdminKey=${AGENTDESK_ADMIN_KEY:-change-me-local-admin-key} AgentDesk__Telemetry__Console=false \
      nohup dotnet src/AgentDesk.Gateway/bin/Release/net10.0/AgentDesk.Gateway.dll --urls http://localhost:5080 > "$RUN/gateway.log" 2>&1 &
    echo $! > "$RUN/gateway.pid"
    for _ in $(seq 1 120); do
      curl -sf http://localhost:5080/health > /dev/null && { echo "AgentDesk cluster up: http://localhost:5080 (logs in $RUN)"; exit 0; }
      sleep 0.5
    done
    echo "the gateway did not become healthy; see $RUN/*.log" >&2
    exit 1
    ;;
  stop)
    for pid in "$RUN"/*.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true; rm -f "$pid"; done
    echo "stopped (PostgreSQL keeps running: deploy/local/postgres.sh stop)"
    ;;
esac
