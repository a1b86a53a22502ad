/** Small hand-built model graphs shared by the kernel-graph and backend tests. */
import { grad } from "../../compiler/autodiff/grad.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";

/** A two-layer perceptron with a squared-error loss; with `train`, also its gradients and an SGD step. */
export function mlp(train: boolean): Graph {
  const b = new IRBuilder();
  const x = b.input("x", [8, 4]);
  const target = b.input("target", [8, 2]);
  const w1 = b.param("w1", [4, 16]);
  const b1 = b.param("b1", [16]);
  const w2 = b.param("w2", [16, 2]);
  const h = b.relu(b.add(b.matmul(x, w1), b1));
  const y = b.matmul(h, w2);
  const d = b.sub(y, target);
  const loss = b.mean(b.mul(d, d));
  if (!train) return b.graph({ y, loss });
  const params = [w1, b1, w2];
  const grads = grad(b, loss, params);
  const updated = Object.fromEntries(params.map((p, i) => [`new_${(p.attrs as { name: string }).name}`, b.sub(p, b.mul(grads[i]!, 0.1))]));
  return b.graph({ loss, ...updated });
}

