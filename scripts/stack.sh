# The local stack, for scripts/demo and tests/cargo_lambda_e2e.sh: dynalite (DynamoDB), the EKS
# emulator (which also relays asynchronous Lambda invokes), and `cargo lambda watch` serving the
# function, all on loopback, with the function's AWS_ENDPOINT_URL_* pointed at them.
# Source after lib.sh. Everything started is stopped by stack_stop (also on exit and Ctrl-C).

DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
EKS_PORT="${EKS_PORT:-4599}"
LAMBDA_PORT="${LAMBDA_PORT:-9000}"
UPGRADES_TABLE="${UPGRADES_TABLE:-upgrades}"
STACK_DIR="${STACK_DIR:-$LOCAL/stack}"
STACK_PIDS=()

# Dummy credentials and region: the SDK wants some; nothing leaves loopback.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_port() { # name port variable
  port_free "$2" || die "port $2 ($1) is already in use: set $3 to another port, e.g. $3=$(( $2 + 100 )) $0"
}

wait_port() { # name port seconds [pid]
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    port_free "$2" || return 0
    if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
      die "$1 exited before listening on port $2 (log: $STACK_DIR/$1.log)"
    fi
    sleep 0.1
  done
  die "$1 did not listen on port $2 within $3 s (log: $STACK_DIR/$1.log)"
}

stack_stop() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do
    # Each was started in its own process group (set -m): stop the group, children included.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STACK_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  STACK_PIDS=()
}

# Starts dynalite, the emulator (seeded from $1) and cargo lambda watch; creates the table.
stack_start() {
  local seed="$1" update_ms="${2:-20000}"
  check_port dynalite "$DYNAMODB_PORT" DYNAMODB_PORT
  check_port eks-emulator "$EKS_PORT" EKS_PORT
  check_port "cargo lambda watch" "$LAMBDA_PORT" LAMBDA_PORT
  rm -rf "$STACK_DIR" && mkdir -p "$STACK_DIR"
  trap 'stack_stop' EXIT
  trap 'echo; echo "interrupted: stopping the local stack"; stack_stop; exit 130' INT TERM

  note "building the EKS emulator and the local-stack helper"
  cargo build --quiet -p eks-emulator -p local-stack
  EMULATOR="$CARGO_TARGET_DIR/debug/eks-emulator"
  HELPER="$CARGO_TARGET_DIR/debug/local-stack"

  set -m
  "$DYNALITE" --host 127.0.0.1 --port "$DYNAMODB_PORT" --path "$STACK_DIR/dynalite-data" \
    >"$STACK_DIR/dynalite.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_port dynalite "$DYNAMODB_PORT" 30 "$!"
  note "dynalite      http://127.0.0.1:$DYNAMODB_PORT  (DynamoDB; data in $STACK_DIR/dynalite-data)"

  "$EMULATOR" --host 127.0.0.1 --port "$EKS_PORT" --seed "$seed" --update-duration-ms "$update_ms" \
    --lambda-forward-url "http://127.0.0.1:$LAMBDA_PORT" >"$STACK_DIR/eks-emulator.out" 2>"$STACK_DIR/eks-emulator.log" &
  STACK_PIDS+=($!)
  wait_port eks-emulator "$EKS_PORT" 30 "$!"
  note "eks-emulator  http://127.0.0.1:$EKS_PORT  (EKS API, CloudWatch alarms, EventBridge Scheduler, and the Lambda relay for Event invokes; seed $(basename "$seed"))"

  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
  export AWS_ENDPOINT_URL_EKS="http://127.0.0.1:$EKS_PORT"
  # The function's continuations (InvocationType Event) go to the emulator's relay, which
  # answers 202 at once and delivers them to cargo lambda watch.
  export AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$EKS_PORT"
  # A hop's verification reads CloudWatch alarms: the emulator's stand-in answers them.
  export AWS_ENDPOINT_URL_CLOUDWATCH="http://127.0.0.1:$EKS_PORT"
  # Wake-ups: the function parks between looks and arranges a one-time schedule; the emulator's
  # EventBridge Scheduler stand-in fires it at its time through the same relay.
  export AWS_ENDPOINT_URL_SCHEDULER="http://127.0.0.1:$EKS_PORT"
  # Hub and spoke: member accounts' clusters are reached through the emulator's STS.
  export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$EKS_PORT"
  export UPGRADES_TABLE
  "$HELPER" create-table | sed 's/^/   /'

  note "building the function and the eks-upgrade command line"
  cargo build --quiet -p eks-upgrade-orchestrator --bin eks-upgrade-orchestrator -p eks-upgrade
  note "starting cargo lambda watch on port $LAMBDA_PORT"
  cargo lambda watch --quiet --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" --concurrency 4 \
    --env-var "UPGRADES_TABLE=$UPGRADES_TABLE" \
    --env-var "POLL_INTERVAL_SECONDS=${POLL_INTERVAL_SECONDS:-5}" \
    --env-var "SAFETY_MARGIN_SECONDS=${SAFETY_MARGIN_SECONDS:-5}" \
    --env-var "OPERATION_TIMEOUT_SECONDS=${OPERATION_TIMEOUT_SECONDS:-4}" \
    --env-var "STALE_AFTER_SECONDS=${STALE_AFTER_SECONDS:-300}" \
    --env-var "UPDATE_POLL_SECONDS=${UPDATE_POLL_SECONDS:-${POLL_INTERVAL_SECONDS:-5}}" \
    --env-var "PARK_AFTER_SECONDS=${PARK_AFTER_SECONDS:-${POLL_INTERVAL_SECONDS:-5}}" \
    --env-var "WAKE_SCHEDULE_GROUP=eks-upgrade-orchestrator-wakes" \
    --env-var "WAKE_ROLE_ARN=arn:aws:iam::123456789012:role/eks-upgrade-orchestrator-wake" \
    --env-var "WAKE_TARGET_ARN=arn:aws:lambda:us-east-1:123456789012:function:eks-upgrade-orchestrator" \
    --env-var "HOME_ACCOUNT_ID=123456789012" \
    --env-var "SPOKE_ROLE_NAME=eks-upgrade-spoke" \
    --env-var "RUST_LOG=${FUNCTION_LOG:-info}" \
    --env-var "AWS_LAMBDA_LOG_FORMAT=JSON" \
    ${INVOCATION_BUDGET_SECONDS:+--env-var "INVOCATION_BUDGET_SECONDS=$INVOCATION_BUDGET_SECONDS"} \
    >"$STACK_DIR/cargo-lambda-watch.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_port "cargo-lambda-watch" "$LAMBDA_PORT" 600 "$!"
  set +m
  note "cargo lambda  http://127.0.0.1:$LAMBDA_PORT  (the function; log $STACK_DIR/cargo-lambda-watch.log)"
}

# cargo lambda invoke, as a user would.
eks_upgrade() { # the command line, against the function cargo lambda watch serves
  "$CARGO_TARGET_DIR/debug/eks-upgrade" --function eks-upgrade-orchestrator \
    --endpoint-url "http://127.0.0.1:$LAMBDA_PORT" "$@"
}

invoke() { # data-file
  cargo lambda invoke eks-upgrade-orchestrator --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" \
    --data-file "$1" --output-format json
}
