/**
 * Small programs whose training steps need feeds made from a run's data
 * (a `skipgram` step's noise tables, a `cosine` schedule's number of
 * updates), shared by the plan tests and the runtime API's tests.
 */

/** A skip-gram model over a vocabulary of 10 (a table of 16), trained by pipeline P with `settings`; `extraField` adds a line to its data. */
export function skipgramSource(settings = "epochs: 2, batch: 4", extraField = ""): string {
  return `
model W {
  input center: token(vocab: 10)
  input context: token(vocab: 10)
  encoder f = embedding(vocab: 10, dim: 4)
  part c = embedding(vocab: 10, dim: 4)
  loss sgns = skipgram(f(center), context, table: c, negatives: 2)
}
data pairs {
  center: token(vocab: 10)
  context: token(vocab: 10)
  ${extraField}
}
pipeline P {
  pretrain W on pairs.train { ${settings} }
}
`;
}

/** A dense autoencoder trained with plain SGD under `cosine(warmup: 2)` for 3 epochs: its update is `lrₜ` times a gradient that does not depend on `t`. */
export const COSINE_OVER_EPOCHS = `
model M {
  input x: f32[4]
  encoder f = dense(4)
  loss l = mse(f(x), x)
}
data d {
  x: f32[4]
}
pipeline P {
  pretrain M on d.train { epochs: 3, batch: 5, optimizer: sgd(lr: 0.1), schedule: cosine(warmup: 2) }
}
`;
