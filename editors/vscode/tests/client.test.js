// The extension's client glue, with VS Code's API stubbed: activation starts a language client
// on `<svcc.path> lsp` for .svc files; then that very command is started and spoken to over
// stdio with vscode-jsonrpc (the client library's transport), so the configured server really
// answers `initialize` with the capabilities the client relies on.
// Usage: node tests/client.test.js PATH_TO_SVCC
const assert = require('assert');
const Module = require('module');
const cp = require('child_process');

const svcc = process.argv[2];
assert.ok(svcc, 'usage: node tests/client.test.js PATH_TO_SVCC');

const settings = { path: svcc, languageServer: true };
const created = [];
const stubs = {
  vscode: {
    workspace: {
      getConfiguration: (section) => {
        assert.strictEqual(section, 'svcc');
        return { get: (k) => settings[k] };
      },
      createFileSystemWatcher: (glob) => ({ glob }),
    },
    window: { showErrorMessage: (m) => { throw new Error(m); } },
  },
  'vscode-languageclient/node': {
    LanguageClient: class {
      constructor(id, name, server, client) {
        created.push({ id, name, server, client });
        this.started = false;
      }
      start() { this.started = true; return Promise.resolve(); }
      stop() { return Promise.resolve(); }
    },
  },
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request in stubs) return stubs[request];
  return load.call(this, request, parent, isMain);
};
const ext = require('../extension.js');
Module._load = load;

(async () => {
  const subscriptions = [];
  await ext.activate({ subscriptions });
  assert.strictEqual(created.length, 1);
  const c = created[0];
  assert.deepStrictEqual(c.server, { command: svcc, args: ['lsp'] });
  assert.deepStrictEqual(c.client.documentSelector, [{ scheme: 'file', language: 'svc' }]);
  assert.strictEqual(c.client.synchronize.fileEvents.glob, '**/*.svc');
  assert.strictEqual(subscriptions.length, 1);
  // Defaults: `svcc` on PATH; switched off: no client.
  assert.deepStrictEqual(ext.serverOptions({ get: () => '' }), { command: 'svcc', args: ['lsp'] });
  settings.languageServer = false;
  await ext.activate({ subscriptions: [] });
  assert.strictEqual(created.length, 1);

  // The configured command is a language server.
  const rpc = require('vscode-jsonrpc/node');
  const child = cp.spawn(c.server.command, c.server.args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createMessageConnection(
    new rpc.StreamMessageReader(child.stdout),
    new rpc.StreamMessageWriter(child.stdin),
  );
  conn.listen();
  const init = await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  for (const cap of ['hoverProvider', 'definitionProvider', 'referencesProvider', 'completionProvider',
    'renameProvider', 'documentFormattingProvider', 'documentSymbolProvider', 'workspaceSymbolProvider',
    'foldingRangeProvider', 'codeActionProvider', 'semanticTokensProvider']) {
    assert.ok(init.capabilities[cap], `the server offers ${cap}`);
  }
  await conn.sendNotification('initialized', {});
  await conn.sendRequest('shutdown');
  await conn.sendNotification('exit');
  const code = await new Promise((r) => child.on('exit', r));
  assert.strictEqual(code, 0);
  conn.dispose();
  console.log('vscode: the extension starts `svcc lsp` from its settings, and the server answers initialize with every capability');
})().catch((e) => { console.error(e); process.exit(1); });
