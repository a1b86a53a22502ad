/**
 * The damaged programs of damage.test.ts, through the language server: it
 * answers every request on any text, at any position, and never stops or
 * logs a failed handler.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  SemanticTokensRequest,
  SignatureHelpRequest,
} from "vscode-languageserver-protocol/node";
import { startClient, type Client } from "../lsp/client.js";
import { applyDamage, damages } from "./damage.js";

const examplesDir = join(import.meta.dirname, "..", "..", "examples");
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".repr"))
  .map((f) => ({ path: join(examplesDir, f), text: readFileSync(join(examplesDir, f), "utf8") }));

let client: Client;
beforeAll(async () => {
  client = await startClient();
});
afterAll(async () => {
  expect(await client.stop()).toBe(0);
});

describe("the language server on damaged programs", () => {
  it("answers every request at any position, and keeps running", async () => {
    const versions = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...examples), damages, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), async (example, list, offsets) => {
        const text = applyDamage(example.text, list);
        const path = example.path;
        const version = (versions.get(path) ?? 0) + 1;
        versions.set(path, version);
        const published = client.diagnostics(path, version);
        if (version === 1) client.open(path, text, version);
        else client.change(path, version, [{ text }]);
        const { diagnostics } = await published;
        const lines = text.split("\n");
        for (const d of diagnostics) {
          expect(d.range.start.line).toBeLessThan(lines.length);
          expect(d.code).toMatch(/^RC[1-8]\d\d$/);
        }
        const uri = `file://${path}`;
        const textDocument = { uri };
        for (const o of offsets) {
          const at = text.length === 0 ? 0 : o % (text.length + 1);
          const before = text.slice(0, at);
          const position = { line: before.split("\n").length - 1, character: at - (before.lastIndexOf("\n") + 1) };
          const requests: Promise<unknown>[] = [
            client.connection.sendRequest(HoverRequest.type, { textDocument, position }),
            client.connection.sendRequest(CompletionRequest.type, { textDocument, position }),
            client.connection.sendRequest(SignatureHelpRequest.type, { textDocument, position }),
            client.connection.sendRequest(DefinitionRequest.type, { textDocument, position }),
            client.connection.sendRequest(ReferencesRequest.type, { textDocument, position, context: { includeDeclaration: true } }),
            client.connection.sendRequest(PrepareRenameRequest.type, { textDocument, position }).catch((e: Error) => {
              // Refusing to rename a built-in or a standard-library name is an answer too.
              expect(e.message).toMatch(/built in|standard library/);
            }),
            client.connection.sendRequest(CodeActionRequest.type, { textDocument, range: { start: position, end: position }, context: { diagnostics } }),
          ];
          await Promise.all(requests);
        }
        await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument });
        await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument, options: { tabSize: 2, insertSpaces: true } });
        await client.connection.sendRequest(SemanticTokensRequest.type, { textDocument });
      }),
      { numRuns: 300 },
    );
    expect(client.log.filter((l) => l.includes("failed"))).toEqual([]);
    expect(client.process.exitCode).toBeNull();
  });
});
