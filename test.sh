#!/usr/bin/env bash
# The one test command: installs and starts what the tests need (PostgreSQL, node packages),
# builds everything, runs every test project, and ends with `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)

echo "== preparing services"
if ! command -v node >/dev/null; then echo "node is required (Node 20)"; exit 1; fi
(cd tests/interop && npm ci --no-audit --no-fund --silent) || { echo "npm ci failed"; exit 1; }
AGENTDESK_TEST_POSTGRES=$(deploy/local/postgres.sh start) || { echo "PostgreSQL did not start"; exit 1; }
export AGENTDESK_TEST_POSTGRES
echo "PostgreSQL: $AGENTDESK_TEST_POSTGRES"

echo "== building"
dotnet build Cluster.sln -nologo -v quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

echo "== testing"
results="$root/TestResults"
rm -rf "$results"
status=0
# One project at a time, each into its own results folder, so no two .trx files can collide.
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" --no-build -nologo --logger "trx" --results-directory "$results/$name" || status=1
done

passed=0; failed=0
for trx in "$results"/*/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p'); f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ $status -eq 0 ] && [ $failed -eq 0 ]
