/**
 * What a pipeline has frozen: whole parts (`f`) and layers inside them by
 * path (`f.0`, `f.2.1`; spec/paths.md), each with the mode it runs in. The
 * pipeline checker and lowering replay the same `freeze` and `unfreeze`
 * steps through this one class, so they agree on what each step trains.
 *
 * A path covers the layers below it and their tensors, whose checkpoint
 * names start with it (`f.0` covers `f.0.weight`, not `f.10.weight`).
 * **Invariant:** no entry covers another: freezing a path drops the entries
 * below it, and unfreezing a path inside a frozen one splits that one into
 * the layers beside the path (`freeze f` then `unfreeze f.3` leaves `f.0`,
 * `f.1`, `f.2` frozen when f has four stages).
 */

/** Training mode (dropout, batch statistics) or inference mode. */
export type FrozenMode = "train" | "eval";

/** Whether `path` (a part, a layer path or a tensor name) lies at or below `entry`. */
export function coveredBy(path: string, entry: string): boolean {
  return path === entry || path.startsWith(`${entry}.`);
}

/** Whether any path of `frozen` covers `path`. */
export function isFrozenPath(frozen: Iterable<string>, path: string): boolean {
  for (const entry of frozen) if (coveredBy(path, entry)) return true;
  return false;
}

/** The frozen parts and layers of one point of a pipeline. */
export class FrozenLayers {
  private readonly entries = new Map<string, FrozenMode>();

  /** `below(path)` lists the segments of the layers one level below a path (to split it on `unfreeze`). */
  constructor(private readonly below: (path: string) => readonly string[] | null) {}

  /** The frozen paths, each with the mode its layers run in. */
  modes(): ReadonlyMap<string, FrozenMode> {
    return this.entries;
  }

  /** Whether `path` lies in a frozen layer (or is one). */
  covers(path: string): boolean {
    return isFrozenPath(this.entries.keys(), path);
  }

  /** Whether `path` or anything inside it is frozen. */
  touches(path: string): boolean {
    for (const entry of this.entries.keys()) if (coveredBy(path, entry) || coveredBy(entry, path)) return true;
    return false;
  }

  /** Freezes `path`, with what was frozen inside it; its layers run in `mode`. */
  freeze(path: string, mode: FrozenMode): void {
    this.drop(path);
    this.entries.set(path, mode);
  }

  /** Makes `path` trainable: what is frozen inside it, and it out of a frozen layer around it. */
  unfreeze(path: string): void {
    this.drop(path);
    for (;;) {
      const around = [...this.entries.keys()].find((e) => e !== path && coveredBy(path, e));
      if (around === undefined) return;
      // Split the frozen layer around `path` into its sub-layers; the one on the way to `path` is split next.
      const mode = this.entries.get(around)!;
      this.entries.delete(around);
      for (const segment of this.below(around) ?? []) {
        const sub = `${around}.${segment}`;
        if (sub !== path) this.entries.set(sub, mode);
      }
    }
  }

  /** Removes `path` and every entry inside it. */
  private drop(path: string): void {
    for (const entry of [...this.entries.keys()]) if (coveredBy(entry, path)) this.entries.delete(entry);
  }
}
