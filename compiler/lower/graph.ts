/**
 * Lowering of a checked data-flow graph (a model's, or a block body's) node by
 * node, on demand and once per node: only what the requested outputs need is
 * lowered. What differs between a model and a block — where inputs come from,
 * how layers are applied, masks and views — is given by a `GraphHooks`.
 */
import type { Node } from "../../runtime/ir/node.js";
import type { ApplyNode, CallNode, Graph, GraphNode, InputNode, MaskNode, NodeId, ViewsNode } from "../check/program.js";
import { nodeInputs } from "../check/graph.js";
import { LowerError, val, type LoweredMask, type Recorder, type Session, type Val, type ValueScope } from "./context.js";
import { reduce, reductionAxes } from "./math.js";
import { concatValues, similarity } from "./movement.js";
import { nodeArg } from "./rule.js";
import { run, type Task } from "./task.js";

/** What a graph's lowering asks of its owner. */
export interface GraphHooks {
  input(node: InputNode): Val;
  /** A layer applied to `x` in graph `scope`, as a task (task.ts): a block's body nests another graph. */
  apply(node: ApplyNode, x: Val, scope: GraphLowerer): Task<Val>;
  mask(node: MaskNode): LoweredMask;
  /** One view (`first` or `second`) of a `views` node. */
  view(node: ViewsNode, field: string): Val;
}

/** Lowers the nodes of one graph, each once. */
export class GraphLowerer implements ValueScope {
  private readonly memo = new Map<NodeId, Val>();

  constructor(
    private readonly s: Session,
    private readonly graph: Graph,
    private readonly hooks: GraphHooks,
  ) {}

  /** The checked node `id`. */
  node(id: NodeId): GraphNode {
    const n = this.graph.nodes[id];
    if (!n) throw new Error(`internal: no graph node ${id}`);
    return n;
  }

  /** The lowered value of node `id`. */
  value(id: NodeId): Val {
    return this.memo.get(id) ?? run(this.valueTask(id));
  }

  /**
   * `value` as a task: what a node reads is lowered as sub-tasks, so a long
   * chain of lets, or a block nested in blocks, does not nest calls (task.ts).
   */
  *valueTask(id: NodeId): Task<Val> {
    let v = this.memo.get(id);
    if (!v) {
      const n = this.node(id);
      // Every value a node reads first, each its own task; then the node itself, which finds them memoized.
      for (const read of nodeInputs(n)) if (!this.memo.has(read)) yield this.valueTask(read);
      v = n.op === "apply" ? ((yield this.hooks.apply(n, this.memo.get(n.input)!, this)) as Val) : this.lower(n);
      this.memo.set(id, v);
    }
    return v;
  }

  private lower(n: Exclude<GraphNode, ApplyNode>): Val {
    const b = this.s.b;
    switch (n.op) {
      case "input":
        return this.hooks.input(n);
      case "call":
        return this.call(n);
      case "mask":
        return this.hooks.mask(n).input;
      case "views":
        return this.hooks.view(n, "first");
      case "select": {
        const source = this.node(n.source);
        if (source.op === "views") return this.hooks.view(source, n.field);
        if (source.op !== "mask") throw new Error(`internal: select of a ${source.op} node`);
        const mask = this.hooks.mask(source);
        return n.field === "input" ? mask.input : n.field === "target" ? mask.target : val(mask.masked);
      }
      case "binary": {
        const operand = (o: NodeId | { readonly constant: number }): Node | number =>
          typeof o === "number" ? this.value(o).x : o.constant;
        const [l, r] = [operand(n.left), operand(n.right)];
        const ops = { "+": "add", "-": "sub", "*": "mul", "/": "div" } as const;
        const x = b.binary(ops[n.operator], l, r);
        const pos = (o: NodeId | { readonly constant: number }): Node | null => (typeof o === "number" ? this.value(o).pos : null);
        return { x, pos: n.type.positions !== undefined ? (pos(n.left) ?? pos(n.right)) : null };
      }
      case "negate":
        return { x: b.neg(this.value(n.input).x), pos: n.type.positions !== undefined ? this.value(n.input).pos : null };
      case "inner":
        return this.inner(n);
    }
  }

  /**
   * What applying layers recorded along the way, by application and path
   * (`LayerCtx.record`): each layer's output, a block's lets (lowered when
   * asked) and attention's weights. An `inner` node reads it (spec/paths.md).
   */
  private readonly recorded = new Map<string, Val | (() => Val)>();

  /** A recorder for the application `id` of this graph, whose paths start after `base` segments. */
  recorder(id: NodeId, base: number): Recorder {
    return { put: (path, v) => this.recorded.set(`${id}:${path.slice(base).join(".")}`, v) };
  }

  private inner(n: Extract<GraphNode, { op: "inner" }>): Val {
    const key = `${n.source}:${[...n.path, ...(n.value === null ? [] : [n.value])].join(".")}`;
    const found = this.recorded.get(key);
    if (found === undefined) throw new LowerError(`internal: nothing recorded the value at '${key}'`);
    return typeof found === "function" ? found() : found;
  }

  private call(n: CallNode): Val {
    const b = this.s.b;
    if (n.category === "objective") throw new LowerError(`the objective '${n.name}' is only computed in a loss`);
    const arg = (name: string): Node => this.value(nodeArg(n, name)!).x;
    switch (n.name) {
      case "add": {
        const [x, y] = [this.value(nodeArg(n, "a")!), this.value(nodeArg(n, "b")!)];
        return { x: b.add(x.x, y.x), pos: n.type.positions !== undefined ? (x.pos ?? y.pos) : null };
      }
      case "concat": {
        const values = (n.args["values"] as readonly { node: NodeId }[]).map((v) => this.value(v.node).x);
        return val(concatValues(b, values, typeof n.args["axis"] === "number" ? n.args["axis"] : -1));
      }
      case "similarity":
        return val(similarity(b, arg("a"), arg("b"), String(n.args["metric"] ?? "dot")));
      case "stop_gradient": {
        // The value itself; autodiff sends nothing back through `detach` (spec/teachers.md).
        const x = this.value(nodeArg(n, "x")!);
        return { x: b.detach(x.x), pos: x.pos };
      }
      case "mean":
      case "sum":
      case "var": {
        const id = nodeArg(n, "x")!;
        const x = this.value(id).x;
        return val(reduce(b, n.name, x, reductionAxes(x, this.node(id).type, n.args["axis"])));
      }
    }
    throw new LowerError(`the function '${n.name}' cannot be lowered yet`);
  }
}
