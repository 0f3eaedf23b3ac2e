// Starts `mlopsdsl lsp` for YAML files. The server itself decides which files are specs
// (`apiVersion: mlopsdsl/...`) and stays silent on every other YAML file, which the YAML
// extension (yaml-language-server) keeps serving: schema completion there, `${{ }}` here.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("mlopsdsl");
  const command = config.get("path", "mlopsdsl");
  const serverOptions = { command, args: ["lsp"] };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "yaml" },
      { scheme: "untitled", language: "yaml" },
    ],
    initializationOptions: {
      schemaDiagnostics: config.get("schemaDiagnostics", true),
      debounceMs: config.get("debounceMs", 150),
    },
  };
  client = new LanguageClient("mlopsdsl", "mlopsdsl", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
