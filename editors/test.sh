#!/usr/bin/env bash
# Editor support, checked by the real tools:
#  - VS Code: grammar unit tests with scope assertions (vscode-tmgrammar-test), snapshot tests of
#    every .svc in the repository (vscode-tmgrammar-snap), the language client's glue (its
#    settings start `svcc lsp`, which answers initialize), packaging into a .vsix (vsce, with
#    the client library);
#  - tree-sitter: corpus tests and every .svc that svcc parses also parses without error nodes
#    (tree-sitter CLI, pinned, installed into the tool cache by scripts/tools.sh);
#  - Vim: filetype detection and highlight groups at chosen places (headless vim, unpacked
#    from Debian's archive into the tool cache by scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The language client's test starts the real server.
svcc_bin="${CARGO_TARGET_DIR:-target}/debug/svcc"
[[ "$svcc_bin" = /* ]] || svcc_bin="$root/$svcc_bin"
cargo build -q -p svcc --locked

echo "--- VS Code"
(cd editors/vscode && npm ci -s --no-audit --no-fund >/dev/null \
  && node_modules/.bin/vscode-tmgrammar-test -g syntaxes/svc.tmLanguage.json 'tests/*.svc' \
  && ./snapshots.sh | tail -n 1 \
  && node tests/client.test.js "$svcc_bin" \
  && node_modules/.bin/vsce package --allow-missing-repository -o svc-language.vsix </dev/null | tail -n 1 \
  && python3 -c 'import sys, zipfile; names = zipfile.ZipFile("svc-language.vsix").namelist(); sys.exit(0 if any("node_modules/vscode-languageclient/" in n for n in names) and "extension/extension.js" in names else "the .vsix lacks the language client")')

echo "--- tree-sitter"
# shellcheck source=scripts/tools.sh
. scripts/tools.sh
ts=$(tree_sitter_cli)
(cd editors/tree-sitter-svc && "$ts" generate && "$ts" test 2>&1 | grep -v -i "warning\|init-config\|configuration file\|parser directories")
svcc="${CARGO_TARGET_DIR:-target}/debug/svcc"
cargo build -q -p svcc --locked
checked=0
while IFS= read -r f; do
  # Files svcc rejects as syntax errors on purpose (UI and corpus error cases) are skipped.
  report=$("$svcc" check --format json "$f" 2>/dev/null || true)
  if grep -q '"code":"E000' <<<"$report"; then continue; fi
  # Quiet mode prints a file only when its tree has errors (the CLI's own notices go to stderr).
  out=$(cd editors/tree-sitter-svc && "$ts" parse --quiet "$root/$f" 2>/dev/null || echo "tree-sitter failed")
  if [ -n "$out" ]; then echo "tree-sitter cannot parse $f:"; echo "$out"; exit 1; fi
  checked=$((checked + 1))
done < <(git ls-files '*.svc')
echo "tree-sitter: $checked .svc files parse without errors"

echo "--- Vim"
vim=$(vim_cli)
result=$(mktemp)
status=0
SVC_VIM_RESULT="$result" "$vim" -Nu NONE -es -c 'set rtp^=editors/vim' -c 'filetype on' -c 'syntax on' \
  -S editors/vim/test.vim >/dev/null 2>&1 || status=$?
cat "$result"
rm -f "$result"
exit "$status"
