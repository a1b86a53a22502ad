// The JavaScript anchors of bench/all.ts: the MNIST autoencoder of examples/mnist-autoencoder.repr
// (784-256-64-32-64-256-784, relu inside, none at the code, sigmoid out, mean squared error) in
// jax-js on its WebAssembly device and in TensorFlow.js on its WebAssembly backend, written by hand
// as each library's users would write it, float32:
//   step:   one Adam(lr 1e-3) update (forward, backward, update), jit-compiled in jax-js, tf.train.adam
//           in TensorFlow.js;
//   encode: the encoder (784-256-64-32) on a batch.
// Both libraries are pinned in bench/package.json (npm ci --prefix bench), never in repr's own
// dependencies. A plain .mjs (the libraries' types are not installed for the type checker), run
// with tsx for the shared timing loop:
//   node --import tsx bench/js-anchors.mjs jax|tfjs step|encode --batch N [--seconds S] [--threads T]
// Prints one JSON object: runs per second (median of rounds) and peak bytes over set-up.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { measure } from "../cli/bench/measure.ts";

const [library, workload] = process.argv.slice(2);
const option = (flag, fallback) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : fallback);
const batch = Number(option("--batch", "256"));
const seconds = Number(option("--seconds", "3"));
const threads = Number(option("--threads", "2"));
/** The loss of every update, so that the JSON shows the step trains (first and last). */
const losses = [];
const DIMS = [784, 256, 64, 32, 64, 256, 784];
const require = createRequire(new URL("./package.json", import.meta.url));

/** Deterministic numbers in [-0.5, 0.5), the same in both libraries. */
function numbers(n, salt) {
  let s = salt;
  return Float32Array.from({ length: n }, () => (s = (s * 48271) % 2147483647) / 2147483647 - 0.5);
}
/** He-uniform weights of layer i (rows: inputs), zero biases. */
function layer(i) {
  const [fanIn, fanOut] = [DIMS[i], DIMS[i + 1]];
  const w = numbers(fanIn * fanOut, i + 7).map((x) => x * 2 * Math.sqrt(6 / fanIn));
  return { w, b: new Float32Array(fanOut), shape: [fanIn, fanOut] };
}
const image = numbers(batch * 784, 3).map((x) => x + 0.5);

/** What follows layer i: relu, none at the code (layer 2), sigmoid at the output (layer 5). */
const activation = (i) => (i === 5 ? "sigmoid" : i === 2 ? "none" : "relu");

async function jax() {
  const { numpy: np, nn, jit, valueAndGrad, init, defaultDevice, tree } = await import(require.resolve("@jax-js/jax"));
  await init("wasm");
  defaultDevice("wasm");
  const params = DIMS.slice(1).map((_, i) => {
    const l = layer(i);
    return { w: np.array(l.w).reshape(l.shape), b: np.array(l.b) };
  });
  const x = np.array(image).reshape([batch, 784]);
  const forward = (ps, x, upTo) => {
    let h = x;
    for (let i = 0; i < upTo; i++) {
      h = np.matmul(h, ps[i].w).add(ps[i].b);
      const a = activation(i);
      if (a === "relu") h = nn.relu(h);
      else if (a === "sigmoid") h = nn.sigmoid(h);
    }
    return h;
  };
  if (workload === "encode") {
    const encode = jit((ps, x) => forward(ps, x, 3));
    return async () => {
      const y = encode(tree.ref(params.slice(0, 3)), x.ref);
      await y.blockUntilReady();
      y.dispose();
    };
  }
  const loss = (ps, x) => np.square(forward(ps, x.ref, 6).sub(x)).mean();
  const [b1, b2, lr, eps] = [0.9, 0.999, 1e-3, 1e-8];
  let m = tree.map((p) => np.zerosLike(p.ref), params);
  let v = tree.map((p) => np.zerosLike(p.ref), params);
  let ps = params;
  let t = 0;
  const update = jit((ps, m, v, x, c1, c2) => {
    const [l, g] = valueAndGrad(loss)(tree.ref(ps), x);
    const m2 = tree.map((mi, gi) => mi.mul(b1).add(gi.mul(1 - b1)), m, tree.ref(g));
    const v2 = tree.map((vi, gi) => vi.mul(b2).add(np.square(gi).mul(1 - b2)), v, g);
    const p2 = tree.map((p, mi, vi) => p.sub(mi.mul(c1.ref).div(np.sqrt(vi.mul(c2.ref)).add(eps)).mul(lr)), ps, tree.ref(m2), tree.ref(v2));
    c1.dispose();
    c2.dispose();
    return [l, p2, m2, v2];
  });
  return async () => {
    t++;
    const [l, p2, m2, v2] = update(ps, m, v, x.ref, np.array(1 / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t)));
    // data() takes the loss's reference: nothing left to dispose.
    losses.push((await l.data())[0]);
    [ps, m, v] = [p2, m2, v2];
  };
}

async function tfjs() {
  // The union package: tfjs-core with every op's gradient registered (tfjs-core's own Node bundle has none).
  const tf = await import(require.resolve("@tensorflow/tfjs"));
  const wasm = await import(require.resolve("@tensorflow/tfjs-backend-wasm"));
  wasm.setThreadsCount(threads);
  await tf.setBackend("wasm");
  await tf.ready();
  const vars = DIMS.slice(1).map((_, i) => {
    const l = layer(i);
    return { w: tf.variable(tf.tensor2d(l.w, l.shape)), b: tf.variable(tf.tensor1d(l.b)) };
  });
  const x = tf.tensor2d(image, [batch, 784]);
  const forward = (upTo) => {
    let h = x;
    for (let i = 0; i < upTo; i++) {
      h = tf.add(tf.matMul(h, vars[i].w), vars[i].b);
      const a = activation(i);
      if (a === "relu") h = tf.relu(h);
      else if (a === "sigmoid") h = tf.sigmoid(h);
    }
    return h;
  };
  if (workload === "encode") return () => tf.tidy(() => forward(3).dataSync());
  const optimizer = tf.train.adam(1e-3);
  return () => {
    const l = optimizer.minimize(() => tf.mean(tf.square(tf.sub(forward(6), x))), true);
    losses.push(l.dataSync()[0]);
    l.dispose();
  };
}

if (!["jax", "tfjs"].includes(library) || !["step", "encode"].includes(workload)) {
  process.stderr.write("usage: node --import tsx bench/js-anchors.mjs jax|tfjs step|encode --batch N [--seconds S] [--threads T]\n");
  process.exit(1);
}
const run = await (library === "jax" ? jax() : tfjs());
const m = await measure(run, { seconds, warmup: 3 });
const installed = new URL(`./node_modules/${library === "jax" ? "@jax-js/jax" : "@tensorflow/tfjs-backend-wasm"}/package.json`, import.meta.url);
const version = JSON.parse(readFileSync(installed, "utf8")).version;
process.stdout.write(JSON.stringify({ library, version, workload, batch, runs_per_s: +m.perSecond.toFixed(2), rounds: m.rounds, peak_bytes: m.peakBytes, ...(losses.length > 0 ? { loss_first: losses[0], loss_last: losses.at(-1) } : {}) }) + "\n");
process.exit(0);
