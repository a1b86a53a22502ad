import type { U32 } from "./philox.js";

/**
 * Streams: which independent sequence of random numbers a draw comes from.
 * A stream is named by what it is for and by the parameter or part it serves,
 * as in `init/f.0.weight`, `mask/m` or `dropout/f.3`, and its number is the
 * 32-bit FNV-1a hash of that name's UTF-8 bytes. The number goes into Philox
 * key word 1 (the seed is word 0); the training step goes into counter word 2,
 * so a mask or dropout pattern differs at every step yet is the same on every
 * run and every backend for one seed. See spec/random.md, "Streams".
 */

/** The FNV-1a 32-bit offset basis. */
export const FNV1A32_OFFSET_BASIS = 0x811c9dc5;
/** The FNV-1a 32-bit prime, 2^24 + 2^8 + 0x93. */
export const FNV1A32_PRIME = 0x01000193;

const utf8 = new TextEncoder();

/**
 * The 32-bit FNV-1a hash (Fowler, Noll, Vo) of the UTF-8 bytes of `text`: for
 * each byte, xor it in, then multiply by the prime modulo 2^32. It is stable
 * across platforms and versions, which is all a stream number needs; Philox
 * itself makes nearby stream numbers independent.
 */
export function fnv1a32(text: string): U32 {
  let hash = FNV1A32_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) hash = Math.imul(hash ^ byte, FNV1A32_PRIME) >>> 0;
  return hash;
}

/**
 * What a stream is for: the uses of a step's `seed` in spec/pipelines.md.
 *
 * - `init`: a parameter's initial values (drawn once, at step 0)
 * - `shuffle`: the order of a split's examples (counter word 2 is the pass number)
 * - `mask`, `view`, `dropout`, `noise`, `negatives`: per-step draws of masks,
 *   augmented views, dropout, bottleneck noise and negative samples
 */
export type RngPurpose = "init" | "shuffle" | "mask" | "view" | "dropout" | "noise" | "negatives" | "sample";

/** Every purpose, in the order of the type. */
export const RNG_PURPOSES: readonly RngPurpose[] = ["init", "shuffle", "mask", "view", "dropout", "noise", "negatives", "sample"];

/** The name of a stream: `purpose/name`, as in `init/f.0.weight`. */
export function streamName(purpose: RngPurpose, name: string): string {
  return `${purpose}/${name}`;
}

/** The number of a stream named in full, as in `streamId("init/f.0.weight")`: its FNV-1a hash. */
export function streamId(fullName: string): U32 {
  return fnv1a32(fullName);
}

/** The number of the stream for `purpose` and `name`: `streamId(streamName(purpose, name))`. */
export function streamOf(purpose: RngPurpose, name: string): U32 {
  return streamId(streamName(purpose, name));
}

/**
 * The pairs of distinct stream names in `names` that hash to the same number,
 * each pair in first-seen order. Two such streams would draw identical numbers,
 * so whoever assigns streams for a model checks that this list is empty.
 */
export function streamCollisions(names: Iterable<string>): Array<readonly [string, string]> {
  const seen = new Map<U32, string>();
  const collisions: Array<readonly [string, string]> = [];
  for (const name of names) {
    const id = streamId(name);
    const other = seen.get(id);
    if (other === undefined) seen.set(id, name);
    else if (other !== name) collisions.push([other, name]);
  }
  return collisions;
}
