#!/usr/bin/env bash
# Snapshot tests of the TextMate grammar over every .svc in the repository: each file is copied
# to tests/snapshots/ (path flattened) and tokenized; the result must match the committed
# `.snap`. After an intended grammar change: `./snapshots.sh --update`, then review the diff.
# The breaking-change pairs (tests/breaking/RULE/) are left out: each is base.svc with one
# edit, and base.svc is in.
set -euo pipefail
cd "$(dirname "$0")"
root=$(git rev-parse --show-toplevel)
mkdir -p tests/snapshots
find tests/snapshots -name '*.svc' -delete
while IFS= read -r f; do
  rel=${f#"$root"/}
  cp "$f" "tests/snapshots/$(echo "$rel" | tr '/' '_')"
done < <(cd "$root" && git ls-files -co --exclude-standard '*.svc' | grep -v -e '^editors/' -e '^tests/breaking/[^/]*/' | sed "s|^|$root/|" | sort)
args=()
[ "${1:-}" = "--update" ] && args+=(--updateSnapshot)
node_modules/.bin/vscode-tmgrammar-snap -g syntaxes/svc.tmLanguage.json "${args[@]}" 'tests/snapshots/*.svc'
