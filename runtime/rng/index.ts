/**
 * The counter-based random number generator every backend shares: Philox-4x32-10
 * addressed by (seed, stream, step, index). See spec/random.md.
 */
export * from "./philox.js";
export * from "./block.js";
export * from "./uniform.js";
export * from "./normal.js";
export * from "./streams.js";
export * from "./wasm.js";
