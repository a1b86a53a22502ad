/**
 * A WebAssembly module as text (the WebAssembly text format), by wabt's
 * disassembler: `repr compile --emit cpu` writes the CPU backend's SIMD
 * modules this way. The text is assembled back and must give the very bytes
 * it came from, so what people read is exactly what the backend runs.
 */
import { importOptional } from "../runtime/optional-packages.js";

/** The WebAssembly features the CPU backend's modules use, as wabt names them. */
export const WASM_FEATURES = { simd: true, relaxed_simd: true } as const;

/** The text of the module `bytes`; throws (an internal error) if the text does not assemble back to `bytes`. */
export async function wasmText(bytes: Uint8Array, fileName: string): Promise<string> {
  // Loaded only here: wabt is megabytes of JavaScript that no other command needs (an optional peer dependency).
  const { default: initWabt } = await importOptional("wabt", () => import("wabt"));
  const wabt = await initWabt();
  // SIMD and relaxed SIMD (the generated matmul's fused multiply-add where the engine offers it); never
  // threads: the modules written are standalone, their memory not shared.
  const read = wabt.readWasm(bytes, { readDebugNames: false, ...WASM_FEATURES });
  let text: string;
  try {
    text = read.toText({ foldExprs: false, inlineExport: true });
  } finally {
    read.destroy();
  }
  const parsed = wabt.parseWat(fileName, text, WASM_FEATURES);
  try {
    const back = parsed.toBinary({ log: false, write_debug_names: false }).buffer;
    if (back.length !== bytes.length || back.some((b, i) => b !== bytes[i])) {
      throw new Error(`the text of ${fileName} does not assemble back to the module's bytes`);
    }
  } finally {
    parsed.destroy();
  }
  return text;
}
