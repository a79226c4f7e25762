#!/usr/bin/env bash
# A local production-shaped cluster: PostgreSQL, two silos and a gateway (cluster client) on this machine.
#   deploy/local/cluster.sh start   -> gateway on http://localhost:5080 (admin key: $AGENTDESK_ADMIN_KEY, default change-me-local-admin-key)
#   deploy/local/cluster.sh stop    -> returns once the silos and the gateway have exited
# Logs and pids go to /tmp/agentdesk-cluster. The cluster and service ids are the configuration's defaults (`agentdesk`),
# the same as a silo or gateway started by hand on the same database (README, "Several silos on PostgreSQL") sees, so
# both reach the same grains; CLUSTER_ID=<id> sets both to another id.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=/tmp/agentdesk-cluster
mkdir -p "$RUN"

case "${1:-start}" in
  start)
    export AgentDesk__Cluster__Mode=Postgres
    export AgentDesk__Cluster__ConnectionString="$(deploy/local/postgres.sh start)"
    if [ -n "${CLUSTER_ID:-}" ]; then
      export AgentDesk__Cluster__ClusterId=$CLUSTER_ID AgentDesk__Cluster__ServiceId=$CLUSTER_ID
    fi
    dotnet build src/AgentDesk.Gateway -c Release -nologo -v quiet -clp:ErrorsOnly
    # The GC's gen0 budget, as every launcher of the product sets it (docs/operations.md, "Sizing").
    export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x2000000}"
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
    pids=()
    for file in "$RUN"/*.pid; do
      [ -f "$file" ] || continue
      pid=$(cat "$file")
      rm -f "$file"
      kill "$pid" 2>/dev/null && pids+=("$pid")
    done
    # SIGTERM lets a silo leave the cluster cleanly, which takes a few seconds: wait for every process to exit (at most
    # 30 s), then kill what is left, so that a `start` right after finds the ports free.
    alive=("${pids[@]}")
    for _ in $(seq 1 60); do
      still=()
      for pid in "${alive[@]}"; do kill -0 "$pid" 2>/dev/null && still+=("$pid"); done
      alive=("${still[@]}")
      [ ${#alive[@]} -eq 0 ] && break
      sleep 0.5
    done
    for pid in "${alive[@]}"; do
      echo "process $pid did not exit within 30 s of SIGTERM: killed" >&2
      kill -9 "$pid" 2>/dev/null || true
    done
    echo "stopped ${#pids[@]} processes (PostgreSQL keeps running: deploy/local/postgres.sh stop)"
    ;;
esac
