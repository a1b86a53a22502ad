/**
 * Lowering without deep recursion. Lowering follows the program's nesting —
 * a block in a block in a block, a let that reads a let that reads a let —
 * and the checker accepts 1,500 levels of it, more than the JavaScript stack
 * holds when each level costs a few calls. So the functions that follow the
 * nesting are generators (`Task`s): where they need another lowering done,
 * they `yield` that task and get its result back, and `run` keeps the tasks
 * waiting on each other in an array instead of on the call stack.
 *
 * **Invariant:** however deep the program nests, `run` uses a fixed number
 * of stack frames per call; a task must `yield` its sub-tasks (never
 * `yield*` them, which would nest again) to keep it so.
 */

/** A computation that may ask for others: it yields each one and is resumed with its result. */
export type Task<T> = Generator<Task<unknown>, T, unknown>;

/** Runs a task to its result; an error thrown by a sub-task is thrown into the task that asked for it. */
export function run<T>(root: Task<T>): T {
  const stack: Task<unknown>[] = [root];
  let sent: unknown = undefined;
  let thrown: { readonly error: unknown } | null = null;
  for (;;) {
    const top = stack[stack.length - 1]!;
    let step: IteratorResult<Task<unknown>, unknown>;
    try {
      step = thrown ? top.throw(thrown.error) : top.next(sent);
    } catch (error) {
      stack.pop();
      if (stack.length === 0) throw error;
      thrown = { error };
      continue;
    }
    thrown = null;
    if (step.done) {
      stack.pop();
      if (stack.length === 0) return step.value as T;
      sent = step.value;
    } else {
      stack.push(step.value);
      sent = undefined;
    }
  }
}

/** A task whose result is already known. */
export function* done<T>(value: T): Task<T> {
  return value;
}
