# Shared by the project's scripts: where things live, and installing the tools they need into
# the project-local folder .local/ (git-ignored). Nothing is installed system-wide.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
NODE_PREFIX="$LOCAL/node"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

# Pinned versions of the tools the scripts install.
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
DYNALITE_VERSION="4.0.0"
ZIGLANG_VERSION="0.17.1"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2)"
}

# Python tools (cfn-lint, cargo-lambda) in a project-local virtualenv.
ensure_python_tools() {
  need python3 "python3 with pip and venv"
  if [ ! -x "$VENV/bin/python" ]; then
    note "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local want=()
  "$VENV/bin/cfn-lint" --version 2>/dev/null | grep -q "$CFN_LINT_VERSION" || want+=("cfn-lint==$CFN_LINT_VERSION")
  "$VENV/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION" || want+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
  if [ ${#want[@]} -gt 0 ]; then
    note "installing ${want[*]} into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${want[@]}"
  fi
  export PATH="$VENV/bin:$PATH"
}

# dynalite (a DynamoDB implementation on LevelDB) from npm, in a project-local prefix.
ensure_dynalite() {
  need npm "node and npm"
  if [ ! -x "$NODE_PREFIX/node_modules/.bin/dynalite" ] ||
     ! grep -q "\"version\": \"$DYNALITE_VERSION\"" "$NODE_PREFIX/node_modules/dynalite/package.json" 2>/dev/null; then
    note "installing dynalite@$DYNALITE_VERSION into $NODE_PREFIX"
    mkdir -p "$NODE_PREFIX"
    npm install --silent --no-audit --no-fund --prefix "$NODE_PREFIX" "dynalite@$DYNALITE_VERSION" >/dev/null
  fi
  DYNALITE="$NODE_PREFIX/node_modules/.bin/dynalite"
}

# For arm64 builds with `cargo lambda build --arm64`: zig (from PyPI, as the linker) and the Rust
# standard library for aarch64. Only the benchmarks need them; the tests build for the host.
ensure_zig() {
  ensure_python_tools
  "$VENV/bin/python" -m pip show ziglang 2>/dev/null | grep -q "^Version: $ZIGLANG_VERSION\$" ||
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIGLANG_VERSION"
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu
}
