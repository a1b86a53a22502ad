/**
 * The compiled graphs of one pipeline step: lowered, differentiated (for a
 * training step), planned into a kernel graph and compiled by the chosen
 * backend, once per batch size the step meets (the full batch, and the
 * smaller last batch of a pass), and cached.
 */
import { lowerModel, lowerTrainStep, type LowerOptions, type LoweredModel } from "../../compiler/lower/index.js";
import type { CheckedProgram, StepSettings } from "../../compiler/check/program.js";
import type { Backend, Executable } from "../../runtime/backends/backend.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { UserError } from "../errors.js";

/** The backends `--backend` names. */
export const BACKENDS = ["cpu", "reference"] as const;
export type BackendName = (typeof BACKENDS)[number];

const referenceBackend: Backend = { name: "reference", compile: (graph) => compileReference(graph) };

/** The backend called `name` (`--backend`). */
export function backendNamed(name: string): Backend {
  if (name === "cpu") return cpuBackend;
  if (name === "reference") return referenceBackend;
  throw new UserError(`--backend must be ${BACKENDS.join(" or ")}, got '${name}'`);
}

/** A tensor a training step keeps between updates: optimizer state, zero at the start. */
export interface StateTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A step's graphs at every batch size it needs, compiled on demand. */
export class StepPrograms {
  private readonly compiled = new Map<number, Executable>();
  /** The lowering at the step's own batch size: its params, inputs and outputs describe every size. */
  readonly lowered: LoweredModel;
  /** The optimizer state of a training step; empty for an evaluation. */
  readonly state: readonly StateTensor[];
  /** The parameters a training step updates. */
  readonly trainable: readonly string[];
  /** The inputs of the graph at the step's batch size. */
  readonly inputs: readonly NamedValue[];

  constructor(
    private readonly program: CheckedProgram,
    private readonly model: string,
    private readonly options: LowerOptions,
    private readonly backend: Backend,
    /** For a training step: its settings and `T`; null for an evaluation. */
    private readonly training: { readonly settings: StepSettings | null; readonly updates: number } | null,
  ) {
    const first = this.build(options.batch);
    this.lowered = first.lowered;
    this.state = first.state;
    this.trainable = first.trainable;
    this.inputs = first.exe.graph.inputs;
    this.compiled.set(options.batch, first.exe);
  }

  /** The executable for batches of `size` examples. */
  executable(size: number): Executable {
    let exe = this.compiled.get(size);
    if (!exe) {
      exe = this.build(size).exe;
      this.compiled.set(size, exe);
    }
    return exe;
  }

  private build(size: number): { lowered: LoweredModel; exe: Executable; state: StateTensor[]; trainable: string[] } {
    const lowered = lowerModel(this.program, this.model, { ...this.options, batch: size });
    if (this.training === null) {
      return { lowered, exe: this.backend.compile(planKernelGraph(lowered.graph)), state: [], trainable: [] };
    }
    const step = lowerTrainStep(lowered, this.training.settings, this.options.frozen ?? new Set(), this.training.updates);
    return {
      lowered,
      exe: this.backend.compile(planKernelGraph(step.graph)),
      state: step.state.map((s) => ({ name: s.name, shape: s.node.shape })),
      trainable: step.trainable.map((p) => p.name),
    };
  }
}
