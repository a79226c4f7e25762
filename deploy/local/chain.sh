#!/usr/bin/env bash
# A local EVM chain (anvil) with the EVM venue's contracts deployed, to run AgentDesk on the EVM venue on one machine.
#   deploy/local/chain.sh start   -> anvil on http://127.0.0.1:${AGENTDESK_CHAIN_PORT:-8545}, contracts deployed by the silo's
#                                    deploy-contracts command, deployments.json written, and the environment lines printed
#   deploy/local/chain.sh stop    -> stops anvil (its whole process group)
# Files go to ${AGENTDESK_CHAIN_DIR:-/tmp/agentdesk-chain}: anvil.log, anvil.pid, deployer.key and executor.key (anvil's first
# two development accounts, readable by you only), deploy.log, deployments.json. The chain lives in memory: stop it and it
# is gone (start deploys afresh).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${AGENTDESK_CHAIN_DIR:-/tmp/agentdesk-chain}
PORT=${AGENTDESK_CHAIN_PORT:-8545}
SOLIDITY=src/AgentDesk.Venues/Evm/Solidity

running() { [ -f "$RUN/anvil.pid" ] && kill -0 "$(cat "$RUN/anvil.pid")" 2>/dev/null; }

stop() {
  if running; then
    pid=$(cat "$RUN/anvil.pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/anvil.pid"
}

print_environment() {
  cat <<EOF
# AgentDesk on the local chain (chain id $(sed -n 's/.*"chainId": *\([0-9]*\).*/\1/p' "$RUN/deployments.json")): run the gateway or silos with
export AgentDesk__Venue__Kind=Evm
export AgentDesk__Evm__DeploymentsFile=$RUN/deployments.json
export AgentDesk__Evm__ExecutorKeyFile=$RUN/executor.key
export AgentDesk__Prices__Source=Chain
# A vault needs its contract admin's signed claim (docs/venues.md, "Vaults on the chain"):
#   dotnet run --project src/AgentDesk.Silo -- sign-vault-claim --AgentDesk:VaultClaim:Organization ORG --AgentDesk:VaultClaim:VaultId equities \
#     --AgentDesk:VaultClaim:KeyFile $RUN/deployer.key --AgentDesk:Evm:DeploymentsFile $RUN/deployments.json
EOF
}

case "${1:-start}" in
  start)
    if running; then
      echo "the local chain is already running (pid $(cat "$RUN/anvil.pid"))" >&2
      print_environment
      exit 0
    fi
    if [ ! -d "$SOLIDITY/node_modules/@foundry-rs" ]; then
      (cd "$SOLIDITY" && npm ci --no-audit --no-fund --silent) >&2
    fi
    anvil=$(ls "$SOLIDITY"/node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null | head -1)
    [ -x "$anvil" ] || { echo "anvil not found under $SOLIDITY/node_modules (npm ci without --omit=optional)" >&2; exit 1; }
    mkdir -p "$RUN" && chmod 700 "$RUN"
    # Its own process group (setsid), so that stop takes anvil and anything it started.
    setsid "$anvil" --host 127.0.0.1 --port "$PORT" > "$RUN/anvil.log" 2>&1 < /dev/null &
    echo $! > "$RUN/anvil.pid"
    for _ in $(seq 1 300); do grep -q "Listening on" "$RUN/anvil.log" && break; running || break; sleep 0.1; done
    grep -q "Listening on" "$RUN/anvil.log" || { echo "anvil did not start; see $RUN/anvil.log" >&2; stop; exit 1; }

    # anvil's development accounts (0: deployer and admin of every contract, 1: executor). Test keys: never use them elsewhere.
    ( umask 077
      sed -n '/^Private Keys/,/^Wallet/p' "$RUN/anvil.log" | sed -n 's/^(0) \(0x[0-9a-f]*\)$/\1/p' > "$RUN/deployer.key"
      sed -n '/^Private Keys/,/^Wallet/p' "$RUN/anvil.log" | sed -n 's/^(1) \(0x[0-9a-f]*\)$/\1/p' > "$RUN/executor.key" )

    dotnet build src/AgentDesk.Silo -c Release -nologo -v quiet -clp:ErrorsOnly >&2
    if ! AgentDesk__Evm__RpcUrl="http://127.0.0.1:$PORT" AgentDesk__Evm__ExecutorKeyFile="$RUN/executor.key" \
      AgentDesk__Deploy__DeployerKeyFile="$RUN/deployer.key" AgentDesk__Deploy__Out="$RUN/deployments.json" \
      timeout 300 dotnet src/AgentDesk.Silo/bin/Release/net10.0/AgentDesk.Silo.dll deploy-contracts > "$RUN/deploy.log" 2>&1; then
      cat "$RUN/deploy.log" >&2
      stop
      exit 1
    fi
    echo "local chain up: http://127.0.0.1:$PORT, contracts in $RUN/deployments.json" >&2
    print_environment
    ;;
  stop)
    stop
    echo "local chain stopped" >&2
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
