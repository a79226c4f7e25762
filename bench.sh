#!/usr/bin/env bash
# Runs the benchmark programs: ./bench.sh [signatures|fanout|exits|intents ...]; no argument runs them all.
# Each prints `name: value unit` lines; docs/benchmarks.md records the figures.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build bench/AgentDesk.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly > /tmp/agentdesk-bench-build.log || { cat /tmp/agentdesk-bench-build.log; exit 1; }
exec dotnet bench/AgentDesk.Benchmarks/bin/Release/net10.0/AgentDesk.Benchmarks.dll "$@"
