#!/usr/bin/env bash
# boto3 conformance of the EKS emulator: creates (once) a venv with pinned boto3 and
# pytest in <repo>/.local/venv-boto3, builds the emulator (honouring CARGO_TARGET_DIR),
# starts it on a free port, runs crates/eks-emulator/tests/boto3 against it, stops it.
# Extra arguments go to pytest. Exits non-zero if anything fails.
set -euo pipefail

BOTO3_VERSION=1.44.5
PYTEST_VERSION=9.2.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
crate=$(dirname "$here")
root=$(git -C "$crate" rev-parse --show-toplevel)
venv="$root/.local/venv-boto3"
python=${PYTHON:-python3}

if ! "$venv/bin/python" - "$BOTO3_VERSION" "$PYTEST_VERSION" 2>/dev/null <<'PY'
import sys
import boto3, pytest
sys.exit(0 if (boto3.__version__, pytest.__version__) == (sys.argv[1], sys.argv[2]) else 1)
PY
then
  echo "boto3-conformance: installing boto3==$BOTO3_VERSION pytest==$PYTEST_VERSION into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "boto3==$BOTO3_VERSION" "pytest==$PYTEST_VERSION"
fi

target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
(cd "$root" && cargo build --quiet -p eks-emulator --bin eks-emulator)
bin="$target/debug/eks-emulator"

logdir=$(mktemp -d)
coproc EMU { exec "$bin" --port 0 --host 127.0.0.1 --rng-seed 7 2>"$logdir/stderr"; }
pid=$EMU_PID
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$logdir"
}
trap cleanup EXIT

if ! read -r -t 60 line <&"${EMU[0]}"; then
  echo "boto3-conformance: the emulator did not start:" >&2
  cat "$logdir/stderr" >&2
  exit 1
fi
url=${line#eks-emulator listening on }
echo "boto3-conformance: emulator at $url" >&2

status=0
EKS_EMULATOR_URL="$url" AWS_EC2_METADATA_DISABLED=true \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$crate/tests/boto3" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "boto3-conformance: FAILED (pytest exit $status); emulator log tail:" >&2
  tail -n 40 "$logdir/stderr" >&2 || true
fi
exit "$status"
