/**
 * `repr sample FILE --weights ckpt.safetensors`: samples from a trained model
 * (spec/sampling.md) through the runtime's `Model.sample`, as an app would.
 * A language model continues a prompt, printed as text with the vocabulary
 * its run saved beside the checkpoint (`vocabulary.json`), or as ids without
 * one; a variational model decodes draws from its prior, written as a PNG
 * grid when they are images (`--out`), else printed as numbers.
 */
import { readFileSync } from "node:fs";
import { messages } from "../../language/diagnostics/messages.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { whyNoSampling } from "../../compiler/plan/sampling.js";
import { ReprError } from "../../runtime/api/errors.js";
import { Model } from "../../runtime/api/model.js";
import type { ModelPlan, PlanSampling } from "../../runtime/api/plan.js";
import type { SampleOptions } from "../../runtime/api/sample.js";
import { DataError } from "../../runtime/data/errors.js";
import { idsToText, textToIds, vocabularyFromJson, type VocabularyFile } from "../../runtime/data/vocabulary.js";
import { ExitCode, UserError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import { imageGridPng } from "../report/image-grid.js";
import { isImageShape } from "../train/pictures.js";
import { wholeNumber } from "../train/options.js";
import { backendChoice } from "../train/programs.js";
import { loadProgram } from "../train/target.js";
import { vocabularyBeside } from "../train/vocabulary-file.js";
import { memoryLimit } from "../memory-option.js";

/** `repr sample`'s options, as commander gives them. */
export interface RawSampleOptions {
  readonly weights: string;
  readonly model?: string;
  readonly count?: string;
  readonly tokens?: string;
  readonly temperature?: string;
  readonly topK?: string;
  readonly seed?: string;
  readonly prompt?: string;
  readonly promptIds?: string;
  readonly vocabulary?: string;
  readonly out?: string;
  readonly backend?: string;
  readonly json?: boolean;
  readonly maxMemory?: string;
  readonly allowImportOutside?: boolean;
}

/** A bad option of `repr sample` (RC851). */
const badOption = (option: string, problem: string): UserError => UserError.from(messages.badSampleOption, { option, problem });

/** `repr sample FILE --weights W [options]`. */
export async function sampleCommand(file: string, raw: RawSampleOptions): Promise<number> {
  const loaded = loadProgram(file, { allowImportOutside: raw.allowImportOutside ?? false, maxMemory: memoryLimit(raw.maxMemory) });
  if (!loaded) return ExitCode.userError;
  const program = loaded.program;
  const name = raw.model ?? program.pipelines.find((p) => p.model !== null)?.model ?? program.models[0]?.name;
  if (name === undefined || !program.models.some((m) => m.name === name)) {
    throw new UserError(`${file} has no model${raw.model ? ` '${raw.model}'` : ""} to sample (models: ${program.models.map((m) => m.name).join(", ") || "none"})`);
  }
  const plan = buildModelPlan(program, name, { pipelines: [] });
  if (plan.sampling === null) throw UserError.from(messages.cannotSample, { why: whyNoSampling(program.models.find((m) => m.name === name)!, plan.functions)! });
  const sampling = plan.sampling;
  const options = sampleOptions(raw);
  const vocabulary = sampling.kind === "next-token" ? readVocabulary(raw) : null;
  const prompt = promptIds(raw, sampling, vocabulary);
  const model = await openModel(plan, raw);
  try {
    const out = await model.sample({ ...options, ...(prompt ? { prompt } : {}) });
    if (sampling.kind === "next-token") printTokens(out as Int32Array, options.count ?? 1, prompt ?? null, vocabulary, raw.json ?? false);
    else writePrior(out as Float32Array, plan, sampling, options.count ?? 1, raw);
  } catch (err) {
    if (err instanceof ReprError) throw badOption("--prompt", err.message);
    throw err;
  } finally {
    model.dispose();
  }
  return ExitCode.ok;
}

/** The numeric options, checked. */
function sampleOptions(raw: RawSampleOptions): SampleOptions {
  const number = (option: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < 0) throw badOption(option, `it must be a number ≥ 0, got '${text}'`);
    return n;
  };
  const whole = (option: string, text: string | undefined, min: number, max?: number): number | undefined => {
    try {
      return wholeNumber(option, text, min, max) ?? undefined;
    } catch (err) {
      throw err instanceof UserError ? badOption(option, err.message.replace(`${option} `, "it ")) : err;
    }
  };
  const picked: Record<string, number | undefined> = {
    count: whole("--count", raw.count, 1, 4096),
    tokens: whole("--tokens", raw.tokens, 1, 1_000_000),
    temperature: number("--temperature", raw.temperature),
    topK: whole("--top-k", raw.topK, 0),
    seed: whole("--seed", raw.seed, 0, 2 ** 32 - 1),
  };
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined)) as SampleOptions;
}

/** The vocabulary to read text with: `--vocabulary`, else the one beside the weights; null when there is none. */
function readVocabulary(raw: RawSampleOptions): VocabularyFile | null {
  const path = raw.vocabulary ?? vocabularyBeside(raw.weights);
  if (path === null) return null;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw UserError.from(messages.cannotRead, { path, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
  }
  try {
    return vocabularyFromJson(text, path);
  } catch (err) {
    if (err instanceof DataError) throw badOption("--vocabulary", err.message);
    throw err;
  }
}

/** The prompt as ids: `--prompt-ids`, or `--prompt` text through the vocabulary; null for the model's default. */
function promptIds(raw: RawSampleOptions, sampling: PlanSampling, vocabulary: VocabularyFile | null): number[] | null {
  if (raw.prompt !== undefined && raw.promptIds !== undefined) throw badOption("--prompt", "give --prompt or --prompt-ids, not both");
  if (raw.promptIds !== undefined) {
    const ids = raw.promptIds.split(",").map((s) => Number(s.trim()));
    if (ids.some((id) => !Number.isInteger(id))) throw badOption("--prompt-ids", `it must be ids separated by commas, got '${raw.promptIds}'`);
    return ids;
  }
  if (raw.prompt === undefined) return null;
  if (sampling.kind !== "next-token") throw badOption("--prompt", "the model samples its prior, which takes no prompt");
  if (vocabulary === null) throw badOption("--prompt", "there is no vocabulary.json beside the weights to read text with; give --vocabulary FILE or --prompt-ids");
  try {
    return [...textToIds(vocabulary, raw.prompt)];
  } catch (err) {
    if (err instanceof DataError) throw badOption("--prompt", err.message);
    throw err;
  }
}

/** The model with the checkpoint's weights, on the chosen backend. */
async function openModel(plan: ModelPlan, raw: RawSampleOptions): Promise<Model> {
  let weights: Uint8Array;
  try {
    weights = readFileSync(raw.weights);
  } catch (err) {
    throw UserError.from(messages.badCheckpoint, { problem: `cannot read ${raw.weights}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  try {
    return await Model.create(plan, { backend: backendChoice(raw.backend ?? "auto"), weights });
  } catch (err) {
    if (err instanceof ReprError) throw UserError.from(messages.badCheckpoint, { problem: `${raw.weights} does not fit model '${plan.model}': ${err.message}` });
    throw err;
  }
}

/** Each sample as a line of text (the prompt, then what was drawn), or as ids without a vocabulary. */
function printTokens(ids: Int32Array, count: number, prompt: readonly number[] | null, vocabulary: VocabularyFile | null, json: boolean): void {
  const per = ids.length / count;
  const samples = Array.from({ length: count }, (_, i) => [...ids.subarray(i * per, (i + 1) * per)]);
  if (json) {
    const texts = vocabulary ? samples.map((s) => idsToText(vocabulary, [...(prompt ?? []), ...s])) : null;
    process.stdout.write(JSON.stringify({ prompt, samples, ...(texts ? { texts } : {}) }) + "\n");
    return;
  }
  samples.forEach((s, i) => {
    const text = vocabulary ? idsToText(vocabulary, [...(prompt ?? []), ...s]) : [...(prompt ?? []), ...s].join(" ");
    process.stdout.write(`${count > 1 ? `--- sample ${i + 1} ---\n` : ""}${text}\n`);
  });
}

/** Decoded draws from the prior: a PNG grid of images (`--out`), or numbers, one sample per line. */
function writePrior(out: Float32Array, plan: ModelPlan, sampling: Extract<PlanSampling, { kind: "prior" }>, count: number, raw: RawSampleOptions): void {
  const per = out.length / count;
  const samples = Array.from({ length: count }, (_, i) => out.subarray(i * per, (i + 1) * per));
  const shape = [...plan.functions.find((f) => f.name === sampling.fn)!.output.shape];
  if (raw.out !== undefined) {
    if (!isImageShape(shape)) throw badOption("--out", `the samples are not images (each is ${per} numbers), so there is no picture to write`);
    writeFileAtomic(raw.out, imageGridPng([{ title: "sample", images: samples.map((data) => ({ shape, data })) }]));
    process.stdout.write(`wrote ${count} samples decoded from the prior of ${sampling.input} [${sampling.shape.join(", ")}] to ${raw.out}\n`);
    return;
  }
  if (raw.json) process.stdout.write(JSON.stringify({ samples: samples.map((s) => [...s]) }) + "\n");
  else for (const s of samples) process.stdout.write([...s].map((v) => v.toPrecision(4)).join(" ") + "\n");
}
