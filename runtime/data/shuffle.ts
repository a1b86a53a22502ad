/**
 * The order of a split's examples in each pass; `runtime/train/loop.ts`
 * (`batchOf`) cuts a pass into batches. See spec/random.md, "Streams":
 * shuffling uses the stream `shuffle/<name>` with the pass number as the step.
 */
import { checkU32, drawBlock, LANES, streamOf } from "../rng/index.js";

/** The name of the shuffle stream when the caller gives none: `shuffle/data`. */
export const DEFAULT_SHUFFLE_NAME = "data";

/**
 * A permutation of 0 … length − 1 for one pass (`epoch`), the same on every
 * machine for the same seed. It is a Fisher–Yates shuffle driven by Philox:
 * key [seed, streamOf("shuffle", name)], step (counter word 2) `epoch`; swap
 * k (k = 0, 1, …, for i = length − 1 down to 1) draws elements 2k and 2k + 1
 * of the stream, whose top 26 and 27 bits make a 53-bit uniform u in [0, 1),
 * and swaps i with floor(u · (i + 1)). Pass the split's name, as in
 * `digits.train`, so that two splits shuffle independently.
 */
export function shuffledOrder(length: number, seed: number, epoch: number, name: string = DEFAULT_SHUFFLE_NAME): Int32Array {
  if (!Number.isInteger(length) || length < 0 || length > 0x7fffffff) throw new RangeError(`length must be an integer in [0, 2^31), got ${length}`);
  checkU32("seed", seed);
  checkU32("epoch", epoch);
  const stream = streamOf("shuffle", name);
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  const words = new Uint32Array(LANES);
  // Elements 2k and 2k + 1 lie in block floor(k / 2), lanes 2(k mod 2) and 2(k mod 2) + 1.
  for (let i = length - 1, k = 0; i >= 1; i--, k++) {
    if (k % 2 === 0) drawBlock(seed, stream, epoch, k >>> 1, words);
    const lane = 2 * (k % 2);
    const u = ((words[lane]! >>> 6) * 0x8000000 + (words[lane + 1]! >>> 5)) / 2 ** 53;
    const j = Math.floor(u * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
