/**
 * The optional packages (runtime/optional-packages.ts): how their absence is
 * recognized and said. The installed-tarball test (test/package/) checks each
 * feature without its package for real.
 */
import { describe, expect, it } from "vitest";
import { ReprError } from "../../runtime/api/errors.js";
import { MissingPackageError, OPTIONAL_PACKAGES, importOptional, installCommand, isMissingPackage } from "../../runtime/optional-packages.js";

/** An error as Node gives it, with its code. */
function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("optional packages", () => {
  it("recognize a package that import() or require.resolve cannot find", async () => {
    const name = "repr-test-no-such-package";
    let caught: unknown;
    try {
      await import(/* @vite-ignore */ name);
    } catch (error) {
      caught = error;
    }
    expect(isMissingPackage(caught, name)).toBe(true);
    expect(isMissingPackage(caught, "wabt")).toBe(false);
    expect(isMissingPackage(nodeError("MODULE_NOT_FOUND", "Cannot find module 'mnist/package.json'\nRequire stack: ..."), "mnist")).toBe(true);
  });

  it("do not take another failure for a missing package", () => {
    // A module missing inside the installed package, a package whose name only starts alike, a broken package.
    expect(isMissingPackage(nodeError("ERR_MODULE_NOT_FOUND", "Cannot find module '/x/node_modules/webgpu/dist/index.js' imported from /y.js"), "webgpu")).toBe(false);
    expect(isMissingPackage(nodeError("ERR_MODULE_NOT_FOUND", "Cannot find package 'webgpu-extra' imported from /y.js"), "webgpu")).toBe(false);
    expect(isMissingPackage(new SyntaxError("Cannot find package 'webgpu'"), "webgpu")).toBe(false);
    expect(isMissingPackage("Cannot find package 'webgpu'", "webgpu")).toBe(false);
  });

  it("turn a missing package into an error naming it and the command that installs it", async () => {
    const missing = nodeError("ERR_MODULE_NOT_FOUND", "Cannot find package 'wabt' imported from /x/cli/wasm-text.js");
    const error = await importOptional("wabt", () => Promise.reject(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect(error).toBeInstanceOf(ReprError);
    expect((error as MissingPackageError).packageName).toBe("wabt");
    expect((error as Error).message).toBe("repr compile --emit cpu needs the npm package 'wabt', which is not installed: run `npm install wabt@1.0.39`");
    expect((error as Error).cause).toBe(missing);
    // Anything else passes through as it was.
    const other = new TypeError("broken");
    await expect(importOptional("wabt", () => Promise.reject(other))).rejects.toBe(other);
    await expect(importOptional("wabt", () => Promise.resolve(7))).resolves.toBe(7);
  });

  it("install at the version this repository tests with, with the flags a package needs", () => {
    for (const [name, entry] of Object.entries(OPTIONAL_PACKAGES)) {
      const flags = "flags" in entry ? ` ${entry.flags}` : "";
      expect(installCommand(name as keyof typeof OPTIONAL_PACKAGES)).toBe(`npm install ${name}@${entry.version}${flags}`);
    }
    // onnxruntime-node's post-install step would download CUDA binaries from outside the npm registry.
    expect(installCommand("onnxruntime-node")).toBe("npm install onnxruntime-node@1.31.1 --onnxruntime-node-install=skip");
  });
});
