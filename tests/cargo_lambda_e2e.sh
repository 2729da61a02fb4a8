#!/usr/bin/env bash
# End to end exactly as a user runs it: `cargo lambda watch` serving the function, events sent
# with `cargo lambda invoke --data-file events/...`, against dynalite and the EKS emulator (whose
# relay delivers the function's continuations back to cargo lambda watch).
# Prints "N passed, M failed"; exits non-zero if any check failed.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
DYNAMODB_PORT="${DYNAMODB_PORT:-18000}" EKS_PORT="${EKS_PORT:-14599}" LAMBDA_PORT="${LAMBDA_PORT:-19000}"
STACK_DIR="$LOCAL/e2e-stack"
source "$ROOT/scripts/stack.sh"
cd "$ROOT"

export POLL_INTERVAL_SECONDS=2 SAFETY_MARGIN_SECONDS=4 OPERATION_TIMEOUT_SECONDS=3 INVOCATION_BUDGET_SECONDS=12
ensure_python_tools
ensure_dynalite
stack_start "crates/eks-emulator/seeds/demo.json" 12000

passed=0 failed=0
check() { # description, then a command that must succeed
  local what="$1"; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   - $what"
  else
    failed=$((failed + 1)); echo "FAIL - $what"
  fi
}
field() { "$HELPER" json-get "$@"; }        # JSON on stdin: the values at dotted paths
emulator_stat() { "$HELPER" emulator /_emulator/stats | field "$1"; }
line() { paste -sd ' ' -; }                  # the values on one line

# 1. The scheduled upgrade, tracked through continuations to the end.
invoke events/upgrade-request.json >"$STACK_DIR/first.json"
update_id="$(field updateId <"$STACK_DIR/first.json" || true)"
check "the first invocation starts the update and hands on" \
  test "$(field status <"$STACK_DIR/first.json"):${update_id:+an update id}" = "IN_PROGRESS:an update id"
check "the upgrade ends SUCCEEDED (continuations through the relay)" \
  "$CARGO_TARGET_DIR/debug/local-stack" watch --cluster demo --request-id to-1.31 --timeout 120
check "EKS counted exactly one control-plane update" \
  test "$(emulator_stat clusters.demo.clusterVersionUpdatesCreated)" = 1
check "the function invoked itself through the relay" \
  test "$(emulator_stat relay.delivered)" -ge 1
check "between looks it parked and the emulator's EventBridge Scheduler woke it" \
  test "$(emulator_stat schedules.fired)" -ge 1

log="$STACK_DIR/cargo-lambda-watch.log"
check "the function's log carries its metrics (EMF): one upgrade started, one succeeded" \
  test "$(grep -c '"UpgradesStarted":1' "$log"):$(grep -c '"UpgradesSucceeded":1' "$log")" = "1:1"
named_lines() { grep '"cluster":"demo"' "$log" | grep '"request_id":"to-1.31"' | grep -c '"step":"'; }
check "its JSON log lines name the cluster, the request id and the step" test "$(named_lines)" -ge 1
check "... and Lambda's request id" grep -q '"requestId":' "$log"

# 2. The same scheduled event again: the stored record answers; no second update.
invoke events/upgrade-request.json >"$STACK_DIR/second.json"
check "the same event again returns the same update" \
  test "$(field status updateId <"$STACK_DIR/second.json" | line)" = "SUCCEEDED $update_id"
check "still exactly one update" \
  test "$(emulator_stat clusters.demo.clusterVersionUpdatesCreated)" = 1

# 3. A malformed event is refused, naming the field, and writes nothing.
if cargo lambda invoke eks-upgrade-orchestrator --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" \
    --data-ascii '{"cluster": "demo", "targetVersion": "1.3a", "requestId": "bad"}' >"$STACK_DIR/bad.out" 2>&1; then
  check "a malformed event is refused" false
else
  check "a malformed event is refused with an error naming targetVersion" grep -q "targetVersion" "$STACK_DIR/bad.out"
fi

# 4. The status query, as an operator asks.
invoke events/status.json >"$STACK_DIR/status.json"
check "the status query shows one record, SUCCEEDED, with the update id" \
  test "$(field records.0.status records.0.updateId <"$STACK_DIR/status.json" | line):$(field records.1 <"$STACK_DIR/status.json" 2>/dev/null || echo one)" = "SUCCEEDED $update_id:one"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
