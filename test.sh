#!/usr/bin/env bash
# The one test command: installs and starts what the tests need, builds everything, runs every test project,
# and ends with `N passed, N failed`.
#
#   ./test.sh                                   every project
#   ./test.sh AgentDesk.Gateway.Tests           one project (its name, or a unique part of it)
#   ./test.sh AgentDesk.Gateway.Tests --filter "FullyQualifiedName~Docs"    one test or a few (dotnet test's filter)
#   ./test.sh contracts                         only the Solidity checks (artifacts up to date, the contracts' node tests)
#
# A project counts as failed tests: every failed, errored, timed-out or aborted test, every discovered test that
# did not run (a crash or a hang), and a project that discovers no test at all.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
started=$(date +%s)
ceiling=${AGENTDESK_TEST_CEILING_SECONDS:-1500}   # the whole run; CI allows 90 minutes, the suite aims for under 20
per_project=${AGENTDESK_TEST_PROJECT_SECONDS:-900}
hang=${AGENTDESK_TEST_HANG_TIMEOUT:-5m}          # one test longer than this is a hang: dumped and stopped

only=""; filter=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filter=(--filter "$2"); shift 2 ;;
    *) only="$1"; shift ;;
  esac
done

fail_early() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

echo "== preparing services"
results="$root/TestResults"
rm -rf "$results"; mkdir -p "$results"
command -v node >/dev/null || fail_early "node is required (Node 20)"
solidity=src/AgentDesk.Venues/Evm/Solidity
# The Solidity folder's packages include anvil, which the chain tests start (keep optional dependencies: anvil's binary is one).
for dir in tests/interop deploy/validate tests/contract tests/console examples/alphagrid-client "$solidity"; do
  (cd "$dir" && npm ci --no-audit --no-fund --silent) || fail_early "npm ci failed in $dir"
done
# The console's browser test drives Debian's Chromium (playwright-core never downloads a browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium (apt)..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } > /dev/null || fail_early "could not install chromium with apt"
fi
total_passed=0; total_failed=0
# The contracts: committed artifacts equal a fresh compile, and the contracts' own tests on anvil. Run with the whole suite
# (and alone with `./test.sh contracts`); their results count in the closing line like every test project's.
if [ -z "$only" ] || [ "$only" = "contracts" ]; then
  if (cd "$solidity" && node compile.mjs --check); then total_passed=$((total_passed + 1)); else echo "contracts: the artifacts differ from a fresh compile"; total_failed=$((total_failed + 1)); fi
  (cd "$solidity" && timeout --kill-after=10 600 npm test) > "$results/contracts.log" 2>&1
  code=$?
  node_passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$results/contracts.log" | tail -1)
  node_failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$results/contracts.log" | tail -1)
  node_passed=${node_passed:-0}; node_failed=${node_failed:-0}
  if [ "$code" -ne 0 ] && [ "$node_failed" -eq 0 ]; then node_failed=1; fi
  echo "contracts: $node_passed passed, $node_failed failed (npm test; log in TestResults/contracts.log)"
  total_passed=$((total_passed + node_passed)); total_failed=$((total_failed + node_failed))
  if [ "$only" = "contracts" ]; then echo "$total_passed passed, $total_failed failed"; [ "$total_failed" -eq 0 ]; exit; fi
fi
# The tests' own PostgreSQL (data folder and port of its own), apart from the one deploy/local/postgres.sh starts for a
# local cluster: stopping or resetting either never disturbs the other. AGENTDESK_TEST_PG_DATA chooses its folder.
AGENTDESK_TEST_POSTGRES=$(AGENTDESK_PG_DATA=${AGENTDESK_TEST_PG_DATA:-/tmp/agentdesk-pg-tests} deploy/local/postgres.sh start) \
  || fail_early "PostgreSQL did not start"
export AGENTDESK_TEST_POSTGRES
echo "PostgreSQL: $AGENTDESK_TEST_POSTGRES"

echo "== building"
dotnet build Cluster.sln -nologo -v quiet -clp:ErrorsOnly || fail_early "the build failed"

echo "== testing"
# Test projects are those that reference the test SDK (tests/AgentDesk.Testing is a helper library).
projects=$(grep -l 'Microsoft.NET.Test.Sdk' tests/*/*.csproj | sort)
[ -n "$only" ] && projects=$(echo "$projects" | grep -- "$only")
[ -n "$projects" ] || fail_early "no test project matches '$only'"

for project in $projects; do
  name=$(basename "$project" .csproj)
  remaining=$(( ceiling - ($(date +%s) - started) ))
  if [ "$remaining" -le 0 ]; then echo "$name: not run, the run's ${ceiling} s ceiling was reached"; total_failed=$((total_failed + 1)); continue; fi
  limit=$(( remaining < per_project ? remaining : per_project ))

  discovered=$(timeout 300 dotnet test "$project" --no-build -nologo --list-tests "${filter[@]}" 2>/dev/null \
    | sed -n '/The following Tests are available:/,$p' | tail -n +2 | grep -c '^ ')
  echo "-- $name: $discovered tests"
  timeout --kill-after=30 "$limit" dotnet test "$project" --no-build -nologo "${filter[@]}" \
    --blame-hang --blame-hang-timeout "$hang" --blame-hang-dump-type none \
    --logger "trx" --results-directory "$results/$name" > "$results/$name.log" 2>&1
  code=$?
  tail -n 3 "$results/$name.log" | grep -E "Passed!|Failed!" || true

  # The counts go to stdout; each failed test's name and the first lines of its message go to stderr, so that a log
  # showing only this script's output still says which test failed and why.
  read -r passed failed executed < <(python3 - "$results/$name" <<'EOF'
import glob, sys, xml.etree.ElementTree as tree
counters = {}
for trx in glob.glob(sys.argv[1] + "/*.trx"):
    root = tree.parse(trx).getroot()
    ns = {"t": root.tag.split("}")[0].strip("{")}
    counts = root.find(".//t:Counters", ns)
    if counts is not None:
        for key, value in counts.attrib.items():
            if value.isdigit():
                counters[key] = counters.get(key, 0) + int(value)
    for result in root.iter("{%s}UnitTestResult" % ns["t"]):
        if result.get("outcome") not in ("Passed", "NotExecuted"):
            message = (result.findtext(".//t:Message", default="", namespaces=ns) or "").strip().splitlines()
            print(f"   {result.get('outcome')}: {result.get('testName')}", file=sys.stderr)
            for line in message[:6]:
                print(f"      {line[:300]}", file=sys.stderr)
bad = sum(counters.get(k, 0) for k in ("failed", "error", "timeout", "aborted"))
print(counters.get("passed", 0), bad, counters.get("executed", 0))
EOF
)
  not_run=$(( discovered - passed - failed ))
  [ "$not_run" -lt 0 ] && not_run=0
  if [ "$discovered" -eq 0 ]; then echo "$name: discovered no tests"; failed=$((failed + 1)); fi
  if [ "$not_run" -gt 0 ]; then echo "$name: $not_run of $discovered tests did not run (exit $code; see $results/$name.log)"; failed=$((failed + not_run)); fi
  if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "$name: dotnet test exited with $code"; failed=1; fi
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then echo "$name: stopped at its ${limit} s limit"; fi
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
done

echo "== took $(( $(date +%s) - started )) s"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
