// Starts `svcc lsp` for .svc files: diagnostics as you type, hover, go to definition, find
// references, completion, rename, formatting, symbols, folding, semantic tokens and quick
// fixes, on top of the TextMate grammar. The server is the `svcc` on PATH, or the one named by
// the `svcc.path` setting.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

/** How the server is started, from the settings. */
function serverOptions(config) {
  const command = (config.get('path') || '').trim() || 'svcc';
  return { command, args: ['lsp'] };
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration('svcc');
  if (config.get('languageServer') === false) return;
  client = new LanguageClient(
    'svcc',
    'svcc language server',
    serverOptions(config),
    {
      documentSelector: [{ scheme: 'file', language: 'svc' }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher('**/*.svc'),
      },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  try {
    await client.start();
  } catch (e) {
    vscode.window.showErrorMessage(
      `svcc: cannot start \`${serverOptions(config).command} lsp\` (${e.message}); set "svcc.path" to the svcc binary`,
    );
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions };
