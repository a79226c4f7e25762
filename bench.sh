#!/usr/bin/env bash
# Runs the benchmark programs: ./bench.sh [signatures|fanout|exits|intents|chain|events|history|batches ...]; no argument runs them all.
# Each prints `name: value unit` lines; docs/benchmarks.md records the figures.
# AGENTDESK_BENCH_BATCHED_STORAGE=0 puts grain state on PostgreSQL through Orleans' ADO.NET provider instead of the batched one
# (AgentDesk:Cluster:BatchedGrainStorage=false).
# AGENTDESK_BENCH_POSITIONS=1000000 ./bench.sh exits runs tick-to-exit at production scale, on PostgreSQL only (about 10
# minutes here); its figures are named with the scale (exits.tick_to_1000_exits_filled_of_1000k_postgres).
# AGENTDESK_BENCH_SUBSCRIBERS=50000 ./bench.sh fanout runs the batches to 50,000 subscribers (about 12 minutes here); its
# figures are named with the scale (fanout.batch_open_50k_postgres, fanout.postgres_vs_memory_at_50k).
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qxE 'fanout|exits|history'; then
  # The fan-out, exits and history benchmarks run against PostgreSQL: start the local one (installed on first use).
  export AGENTDESK_BENCH_POSTGRES="$(deploy/local/postgres.sh start)"
fi
if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx chain; then
  # The chain benchmark runs anvil from the contracts' packages.
  [ -d src/AgentDesk.Venues/Evm/Solidity/node_modules/@foundry-rs ] || (cd src/AgentDesk.Venues/Evm/Solidity && npm ci --no-audit --no-fund --silent)
fi
dotnet build bench/AgentDesk.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly > /tmp/agentdesk-bench-build.log || { cat /tmp/agentdesk-bench-build.log; exit 1; }
# The product's launchers give the GC a gen0 budget of 32 MiB per heap (docs/operations.md, "Sizing"); the
# benchmarks measure the product as it is started.
DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x2000000}" exec dotnet bench/AgentDesk.Benchmarks/bin/Release/net10.0/AgentDesk.Benchmarks.dll "$@"
