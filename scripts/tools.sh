# Sourced by the test scripts: the external tools the tests use, each pinned to a version and
# installed into one cache folder ($SVCC_TOOLS, default $HOME/.cache/svcc) on first use, so a
# test run installs nothing anywhere else and a new machine gets the same versions.
# (Two exceptions come from Debian's packages when missing: curl and vim. The VS Code grammar
# tests install their npm packages from editors/vscode/package-lock.json into that folder's
# node_modules, which git ignores.)

SVCC_TOOLS="${SVCC_TOOLS:-$HOME/.cache/svcc}"
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
REDOCLY_VERSION=2.77.0
TYPESCRIPT_VERSION=5.9.3
TREE_SITTER_CLI_VERSION=0.27.1

# The Python tools (schemathesis, openapi-spec-validator) in $SVCC_TOOLS/venv; prints its bin.
python_tools() {
  local venv="$SVCC_TOOLS/venv"
  local want="schemathesis==$SCHEMATHESIS_VERSION openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
  if [ "$(cat "$venv/.svcc-versions" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$venv" >&2
    # shellcheck disable=SC2086 # $want is a list of requirements
    "$venv/bin/pip" install -q $want >&2
    echo "$want" >"$venv/.svcc-versions"
  fi
  echo "$venv/bin"
}

# The npm tools (typescript, @redocly/cli) in $SVCC_TOOLS/node; prints their bin.
node_tools() {
  local dir="$SVCC_TOOLS/node"
  local want="typescript@$TYPESCRIPT_VERSION @redocly/cli@$REDOCLY_VERSION"
  if [ "$(cat "$dir/.svcc-versions" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    npm install -s --no-audit --no-fund --prefix "$dir" $want >/dev/null
    echo "$want" >"$dir/.svcc-versions"
  fi
  echo "$dir/node_modules/.bin"
}

# The tree-sitter CLI in $SVCC_TOOLS/tree-sitter; prints the binary.
tree_sitter_cli() {
  local root="$SVCC_TOOLS/tree-sitter-$TREE_SITTER_CLI_VERSION"
  if [ ! -x "$root/bin/tree-sitter" ]; then
    cargo install -q --locked --root "$root" tree-sitter-cli --version "$TREE_SITTER_CLI_VERSION" >&2
  fi
  echo "$root/bin/tree-sitter"
}
