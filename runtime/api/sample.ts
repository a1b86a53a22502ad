/**
 * Sampling from a model (spec/sampling.md), as the plan's `sampling` says:
 *
 * - **next token**: a prompt of token ids is extended one token at a time.
 *   Each step runs the language model on a window of `length` ids — the last
 *   `length − 1` ids so far, then filler, which a causal model never reads —
 *   takes the scores at the last id's position, divides them by the
 *   temperature, keeps the `topK` largest (all when 0), and draws from their
 *   softmax with one uniform of the shared generator: stream
 *   `sample/<input>`, element = the sample, step = the token's index. A
 *   temperature of 0 takes the largest score (the lowest id on a tie).
 *   Special tokens are never drawn.
 * - **the prior**: `count` codes from N(0, temperature²·I), element k of
 *   stream `sample/prior` (the generator's normals), decoded.
 *
 * The draws are the shared counter-based generator's, so one seed gives the
 * same samples every time, in an app as in `repr sample`; scores are
 * computed in float32 by the backend, and in float64 from there.
 */
import type { Inputs } from "./inputs.js";
import type { PlanSampling } from "./plan.js";
import { ReprError } from "./errors.js";
import { normalAt, streamOf, uniformAt } from "../rng/index.js";

/** What `Model.sample` takes; every field has a default. */
export interface SampleOptions {
  /** How many samples, drawn side by side (default 1). */
  readonly count?: number;
  /** The generator's seed (default 0): the same seed, the same samples. */
  readonly seed?: number;
  /** Divides the scores before the softmax (next token) or scales the prior's deviation; 0 is greedy / the prior's mean (default 1). */
  readonly temperature?: number;
  /** Next token: draw among the k most likely tokens only; 0 keeps every token (default 0). */
  readonly topK?: number;
  /** Next token: how many tokens to add to the prompt (default: the model's window less one). */
  readonly tokens?: number;
  /** Next token: the ids to continue (default: the `cls` token if the input reserves one, else id 0). */
  readonly prompt?: ArrayLike<number>;
}

/** Runs a model function on `count` examples, as `Model.call` does. */
export type CallFunction = (fn: string, inputs: Inputs, count: number) => Promise<Float32Array | Int32Array>;

/**
 * Samples from a model: for a next-token model, `count × tokens` new ids
 * (the prompt excluded), sample after sample; for the prior, `count`
 * decoded outputs.
 */
export async function sampleModel(sampling: PlanSampling, call: CallFunction, options: SampleOptions = {}): Promise<Int32Array | Float32Array> {
  const count = intOption("count", options.count ?? 1, 1);
  const seed = intOption("seed", options.seed ?? 0, 0, 2 ** 32 - 1);
  const temperature = options.temperature ?? 1;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new ReprError(`sample: 'temperature' must be a finite number ≥ 0, got ${temperature}`);
  if (sampling.kind === "prior") return samplePrior(sampling, call, count, seed, temperature);
  return sampleTokens(sampling, call, { count, seed, temperature, options });
}

function intOption(name: string, value: number, min: number, max = 2 ** 31 - 1): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new ReprError(`sample: '${name}' must be an integer in [${min}, ${max}], got ${value}`);
  return value;
}

async function samplePrior(s: Extract<PlanSampling, { kind: "prior" }>, call: CallFunction, count: number, seed: number, temperature: number): Promise<Float32Array> {
  const size = s.shape.reduce((a, d) => a * d, 1);
  const stream = streamOf("sample", "prior");
  const codes = Float32Array.from({ length: count * size }, (_, k) => temperature * normalAt(seed, stream, k));
  return (await call(s.fn, { [s.input]: codes }, count)) as Float32Array;
}

async function sampleTokens(
  s: Extract<PlanSampling, { kind: "next-token" }>,
  call: CallFunction,
  run: { count: number; seed: number; temperature: number; options: SampleOptions },
): Promise<Int32Array> {
  const { count, seed, temperature, options } = run;
  const topK = intOption("topK", options.topK ?? 0, 0);
  const tokens = intOption("tokens", options.tokens ?? s.length - 1, 1);
  const specials = new Set(s.special.map((_, i) => s.vocab - s.special.length + i));
  const cls = s.special.indexOf("cls");
  const prompt = Array.from(options.prompt ?? [cls >= 0 ? s.vocab - s.special.length + cls : 0]);
  if (prompt.length === 0) throw new ReprError("sample: the prompt needs at least one token, which the first drawn one follows");
  const bad = prompt.find((id) => !Number.isInteger(id) || id < 0 || id >= s.vocab);
  if (bad !== undefined) throw new ReprError(`sample: prompt id ${bad} is not a token of the vocabulary 0..${s.vocab - 1}`);
  const pad = s.special.indexOf("pad");
  const filler = pad >= 0 ? s.vocab - s.special.length + pad : 0;
  const context = s.length - 1;
  const history = [...prompt];
  const out = new Int32Array(count * tokens);
  const window = new Int32Array(count * s.length);
  const stream = streamOf("sample", s.input);
  for (let t = 0; t < tokens; t++) {
    // Every sample has as many ids so far: the prompt and t drawn ones.
    const known = history.length + t;
    const start = Math.max(0, known - context);
    const seen = known - start;
    for (let i = 0; i < count; i++) {
      const row = window.subarray(i * s.length, (i + 1) * s.length);
      for (let p = 0; p < s.length; p++) {
        const k = start + p;
        row[p] = p >= seen ? filler : k < history.length ? history[k]! : out[i * tokens + (k - history.length)]!;
      }
    }
    const scores = await call(s.fn, { [s.input]: window }, count);
    for (let i = 0; i < count; i++) {
      const at = (i * context + (seen - 1)) * s.vocab;
      const u = uniformAt(seed, stream, i, t);
      out[i * tokens + t] = drawToken(scores.subarray(at, at + s.vocab), specials, temperature, topK, u);
    }
  }
  return out;
}

/**
 * One token from scores: the largest (lowest id on a tie) at temperature 0;
 * else the softmax of score/temperature over the `topK` largest (ties to
 * the lower id; all when 0), the first id whose cumulative probability, in
 * id order, exceeds `u`. Special tokens are left out.
 */
export function drawToken(scores: ArrayLike<number>, specials: ReadonlySet<number>, temperature: number, topK: number, u: number): number {
  const ids: number[] = [];
  for (let id = 0; id < scores.length; id++) if (!specials.has(id)) ids.push(id);
  const ranked = [...ids].sort((a, b) => scores[b]! - scores[a]! || a - b);
  if (temperature === 0) return ranked[0]!;
  const kept = topK > 0 && topK < ranked.length ? ranked.slice(0, topK).sort((a, b) => a - b) : ids;
  const top = scores[ranked[0]!]! / temperature;
  const weights = kept.map((id) => Math.exp(scores[id]! / temperature - top));
  const total = weights.reduce((a, w) => a + w, 0);
  let cumulative = 0;
  for (let j = 0; j < kept.length; j++) {
    cumulative += weights[j]!;
    if (u * total < cumulative) return kept[j]!;
  }
  return kept[kept.length - 1]!;
}
