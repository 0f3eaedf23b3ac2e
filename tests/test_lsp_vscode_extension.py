"""The VS Code extension (editors/vscode) starts `mlopsdsl lsp` and that process speaks LSP.

Node loads extension.js with `vscode` and `vscode-languageclient/node` standing in (only VS Code
itself has the real ones): the client the extension builds is asked to start, which spawns the
command the extension chose and sends `initialize` over stdio as vscode-languageclient would.
Skips without Node (the editor probe's requirement too).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

EXTENSION = REPO / "editors" / "vscode"

HARNESS = r"""
const Module = require("module");
const { spawn } = require("child_process");
const [extensionPath, command] = process.argv.slice(2);
const settings = { path: command, schemaDiagnostics: false, debounceMs: 20 };
class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions });
  }
  start() {
    const server = spawn(this.serverOptions.command, this.serverOptions.args);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {
      processId: process.pid, rootUri: null, capabilities: {},
      initializationOptions: this.clientOptions.initializationOptions } });
    server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let buffer = "";
    return new Promise((resolve, reject) => {
      server.on("error", reject);
      server.stdout.on("data", (chunk) => {
        buffer += chunk;
        const split = buffer.indexOf("\r\n\r\n");
        if (split < 0) return;
        const length = Number(/Content-Length: (\d+)/.exec(buffer.slice(0, split))[1]);
        const message = buffer.slice(split + 4);
        if (Buffer.byteLength(message) < length) return;
        server.kill();
        resolve({ client: this, answer: JSON.parse(message) });
      });
    });
  }
  stop() {}
  dispose() {}
}
const fakes = {
  vscode: { workspace: { getConfiguration: (section) => ({
    get: (key, fallback) => (section === "mlopsdsl" && key in settings ? settings[key] : fallback) }) } },
  "vscode-languageclient/node": { LanguageClient },
};
const load = Module._load;
Module._load = function (request) { return request in fakes ? fakes[request] : load.apply(this, arguments); };
const context = { subscriptions: [] };
Promise.resolve(require(extensionPath).activate(context)).then(({ client, answer }) => {
  console.log(JSON.stringify({ subscribed: context.subscriptions.length, serverOptions: client.serverOptions,
    clientOptions: client.clientOptions, answer }));
});
"""


def test_the_manifest_names_its_entry_and_activates_on_yaml():
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    assert (EXTENSION / manifest["main"]).is_file()
    assert manifest["activationEvents"] == ["onLanguage:yaml"]
    assert "vscode-languageclient" in manifest["dependencies"]
    settings = manifest["contributes"]["configuration"]["properties"]
    assert {"mlopsdsl.path", "mlopsdsl.schemaDiagnostics", "mlopsdsl.debounceMs"} == set(settings)


def test_the_extension_starts_mlopsdsl_lsp_which_answers_initialize(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    command = Path(sys.executable).with_name("mlopsdsl")
    assert command.is_file(), "the console script is installed beside this interpreter"
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    proc = subprocess.run([node, str(harness), str(EXTENSION / "extension.js"), str(command)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["serverOptions"] == {"command": str(command), "args": ["lsp"]}
    assert {"scheme": "file", "language": "yaml"} in found["clientOptions"]["documentSelector"]
    assert found["clientOptions"]["initializationOptions"] == {"schemaDiagnostics": False, "debounceMs": 20}
    assert found["subscribed"] == 1  # the client is disposed with the extension
    capabilities = found["answer"]["result"]["capabilities"]
    assert found["answer"]["result"]["serverInfo"]["name"] == "mlopsdsl"
    assert "." in capabilities["completionProvider"]["triggerCharacters"]
    for provider in ("hoverProvider", "definitionProvider", "referencesProvider", "documentSymbolProvider",
                     "codeActionProvider"):
        assert capabilities[provider], provider
