/**
 * The experiments of experiments/RESULTS.md: which `repr train` runs each one
 * makes and which number of each run fills which row. A pretraining run is one
 * run per seed, shared by every probe that starts from it (`--init` with its
 * checkpoint and `--start-at 2`), across experiments too: the mask-ratio
 * sweep's ratio 0.75 is the Fashion-MNIST MAE probes' pretraining.
 */

/** Where a run's data comes from. */
export type Dataset = "fashion" | "mnist" | "photos" | "fortunes";

export const DATASET_NAMES: Record<Dataset, string> = {
  fashion: "Fashion-MNIST (Debian `dataset-fashion-mnist`, 60,000 train / 10,000 test)",
  mnist: "MNIST (the 10,000 digits embedded in the `mnist` package, 7,996 train / 2,004 test)",
  photos: "32x32 patches of real photographs from python3-skimage, plasma-workspace-wallpapers and mate-backgrounds",
  fortunes: "Debian's `fortunes` text",
};

/** One `repr train` run of one pipeline. */
export interface RunSpec {
  /** Unique over all experiments: `dataset/file/pipeline`. */
  readonly key: string;
  readonly file: string;
  readonly pipeline: string;
  readonly dataset: Dataset;
  /** A pretraining run (its epochs may be cut with --pretrain-epochs). */
  readonly pretrain: boolean;
  /** The pretraining run whose `1-pretrain.safetensors` this run starts from, at step 2. */
  readonly from: RunSpec | null;
}

/** Which number of a run fills a row. */
export type Measure =
  | { readonly kind: "metric"; readonly name: string; readonly scale: number; readonly unit: string }
  | { readonly kind: "loss"; readonly name: string; readonly scale: number; readonly unit: string };

export interface RowSpec {
  /** What is compared: a method, a setting. */
  readonly method: string;
  /** Labels per class, where the row is one point of a label sweep. */
  readonly labels: number | null;
  readonly run: RunSpec;
  readonly measure: Measure;
}

export interface Experiment {
  readonly name: string;
  readonly title: string;
  readonly dataset: Dataset;
  /** What the experiment asks, and how to read it (markdown). */
  readonly about: string;
  readonly rows: readonly RowSpec[];
  /** Extra analysis the runner does after the runs (see run.ts). */
  readonly extra: "probe-plot" | "bottleneck" | "colour" | "words" | "gpt" | null;
}

const runs = new Map<string, RunSpec>();
function run(dataset: Dataset, file: string, pipeline: string, from: RunSpec | null = null, pretrain = false): RunSpec {
  const key = `${dataset}/${file.replace(/\.repr$/, "")}/${pipeline}`;
  const existing = runs.get(key);
  if (existing) return existing;
  const spec: RunSpec = { key, file: `experiments/${file}`, pipeline, dataset, pretrain, from };
  runs.set(key, spec);
  return spec;
}

const ACCURACY: Measure = { kind: "metric", name: "accuracy", scale: 100, unit: "% test accuracy" };

function probeRows(dataset: Dataset, counts: readonly number[]): RowSpec[] {
  const rows: RowSpec[] = [];
  for (const n of counts) rows.push({ method: "logistic regression on raw pixels", labels: n, run: run(dataset, "probes-pixels.repr", `Pixels${n}`), measure: ACCURACY });
  for (const n of counts) rows.push({ method: "MLP from scratch (the AE's encoder + a classifier)", labels: n, run: run(dataset, "probes-pixels.repr", `Scratch${n}`), measure: ACCURACY });
  const methods: [string, string, string][] = [
    ["linear probe on an autoencoder's code (64)", "probes-ae.repr", "Pretrain"],
    ["linear probe on a masked autoencoder (ratio 0.75)", "probes-mae.repr", "PretrainMAE"],
    ["linear probe on a two-view contrastive encoder", "probes-contrastive.repr", "Pretrain"],
  ];
  for (const [method, file, pre] of methods) {
    const base = run(dataset, file, pre, null, true);
    for (const n of counts) rows.push({ method, labels: n, run: run(dataset, file, `Probe${n}`, base), measure: ACCURACY });
  }
  return rows;
}

function transferRows(): RowSpec[] {
  const pre = run("fashion", "transfer.repr", "Pretrain", null, true);
  const rev = run("fashion", "transfer.repr", "PretrainReverse", null, true);
  return [
    { method: "source task: classes 0-4, all labels (the pretraining itself)", labels: null, run: pre, measure: ACCURACY },
    ...[10, 100].flatMap((n): RowSpec[] => [
      { method: "frozen f from 0-4, new head adapted on 5-9", labels: n, run: run("fashion", "transfer.repr", `Adapt${n}`, pre), measure: ACCURACY },
      { method: "the same network from scratch on 5-9", labels: n, run: run("fashion", "transfer.repr", `Scratch${n}`), measure: ACCURACY },
    ]),
    { method: "reverse, source task: classes 5-9, all labels", labels: null, run: rev, measure: ACCURACY },
    { method: "reverse: frozen f from 5-9, new head adapted on 0-4", labels: 10, run: run("fashion", "transfer.repr", "AdaptReverse10", rev), measure: ACCURACY },
    { method: "reverse: the same network from scratch on 0-4", labels: 10, run: run("fashion", "transfer.repr", "ScratchReverse10"), measure: ACCURACY },
  ];
}

function maskRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  for (const [ratio, model, probe] of [["0.25", "MAE25", "ProbeMAE25_100"], ["0.5", "MAE50", "ProbeMAE50_100"], ["0.75", "MAE", "Probe100"], ["0.9", "MAE90", "ProbeMAE90_100"]] as const) {
    const pre = run("mnist", "probes-mae.repr", `Pretrain${model}`, null, true);
    rows.push({ method: `mask ratio ${ratio}: held-out mse on the hidden pixels`, labels: null, run: pre, measure: { kind: "loss", name: "reconstruction", scale: 1, unit: "mse" } });
    rows.push({ method: `mask ratio ${ratio}: linear probe`, labels: 100, run: run("mnist", "probes-mae.repr", probe, pre), measure: ACCURACY });
  }
  return rows;
}

function bottleneckRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  for (const k of [2, 8, 32, 128]) {
    const pre = run("fashion", "bottleneck.repr", `PretrainCode${k}`, null, true);
    rows.push({ method: `code of ${k}: held-out reconstruction mse`, labels: null, run: pre, measure: { kind: "loss", name: "reconstruction", scale: 1, unit: "mse" } });
    rows.push({ method: `code of ${k}: linear probe`, labels: 100, run: run("fashion", "bottleneck.repr", `ProbeCode${k}_100`, pre), measure: ACCURACY });
  }
  return rows;
}

export const EXPERIMENTS: readonly Experiment[] = [
  {
    name: "fashion-probes",
    title: "Probes at few labels on Fashion-MNIST",
    dataset: "fashion",
    about:
      "Linear probes on frozen self-supervised features against logistic regression on raw pixels and against the same MLP trained from scratch, at 10, 100 and 1,000 labels per class. Each self-supervised model is pretrained once per seed, without labels, on the 60,000 training images; every probe of that seed starts from that checkpoint. `per_class` takes the first N images of each class, so every seed sees the same labelled images; seeds change the initialization, the shuffling and the masks or views.",
    rows: probeRows("fashion", [10, 100, 1000]),
    extra: "probe-plot",
  },
  {
    name: "mnist-probes",
    title: "Probes at few labels on MNIST",
    dataset: "mnist",
    about: "The same programs on the embedded MNIST digits. With about 800 training digits per class, the sweep stops at 100 labels per class.",
    rows: probeRows("mnist", [10, 100]),
    extra: "probe-plot",
  },
  {
    name: "transfer",
    title: "Final-layer adaptation: Fashion-MNIST classes 0-4 to 5-9",
    dataset: "fashion",
    about:
      "The seed's transfer: pretrain f and W on a source task with plenty of labels (classes 0-4, 30,000 images), freeze f, replace W, adapt the new head on the target classes 5-9 with 10 or 100 labels per class, and test on held-out 5-9; against the same convolutional network trained from scratch on the same labels. The split is by class, so the target classes are never seen while pretraining; clothes (0-4) and shoes and bags (5-9) share low-level structure (edges, silhouettes) but not the class boundaries, which is the case where a frozen encoder must carry general features to help.",
    rows: transferRows(),
    extra: null,
  },
  {
    name: "mask-ratio",
    title: "Mask ratio of a masked autoencoder",
    dataset: "mnist",
    about: "MAE pretraining hiding 25%, 50%, 75% or 90% of the 16 patches of 7x7 pixels, each followed by a linear probe at 100 labels per class, on the embedded MNIST digits (the file's full settings fit this CPU there; on Fashion-MNIST each pretraining is 7.5 times longer). The ratio-0.75 run is the one of the MNIST probes above. The held-out mse counts only hidden pixels, so it is not comparable across ratios: more hidden pixels make a harder task.",
    rows: maskRows(),
    extra: null,
  },
  {
    name: "bottleneck",
    title: "Bottleneck size of an autoencoder",
    dataset: "fashion",
    about: "MLP autoencoders 784-256-k with k = 2, 8, 32, 128 (a linear code, mirrored decoder): held-out reconstruction mse and a linear probe on the code at 100 labels per class. A smaller code forces the encoder to keep only what matters most for reconstruction; the probe shows how much of that is the class.",
    rows: bottleneckRows(),
    extra: "bottleneck",
  },
  {
    name: "colour",
    title: "Colour from grey on real photographs",
    dataset: "photos",
    about: "A convolutional encoder-decoder sees the lightness (Y) of a 32x32 patch and predicts its two colour-difference channels (Cb, Cr). Training patches come from sixteen photographs, test patches from four others (a cat, a lake shore, two flowers); the error is the mse of Cb and Cr in [0, 1], against predicting grey (Cb = Cr = 0.5) for every pixel.",
    rows: [{ method: "colour mse on the test photographs' patches", labels: null, run: run("photos", "colour.repr", "Train", null, true), measure: { kind: "loss", name: "colour", scale: 1, unit: "mse" } }],
    extra: "colour",
  },
  {
    name: "words",
    title: "Word embeddings by skip-gram on fortunes",
    dataset: "fortunes",
    about: "Skip-gram with negative sampling (5,000 words, 100 numbers each). The held-out loss is on word pairs of the last 20% of the text.",
    rows: [{ method: "held-out skip-gram loss", labels: null, run: run("fortunes", "words.repr", "Train", null, true), measure: { kind: "loss", name: "sgns", scale: 1, unit: "loss" } }],
    extra: "words",
  },
  {
    name: "gpt",
    title: "tiny-gpt on fortunes",
    dataset: "fortunes",
    about: "The character-level transformer of examples/tiny-gpt.repr on the fortunes text: held-out cross-entropy in nats per character, against add-one unigram and bigram models counted on the same training text.",
    rows: [{ method: "tiny-gpt held-out cross-entropy", labels: null, run: run("fortunes", "gpt.repr", "Train", null, true), measure: { kind: "loss", name: "next", scale: 1, unit: "nats/char" } }],
    extra: "gpt",
  },
];

/** The runs an experiment needs, each pretraining before the runs that start from it. */
export function runsOf(experiment: Experiment): RunSpec[] {
  const out: RunSpec[] = [];
  const add = (r: RunSpec): void => {
    if (r.from) add(r.from);
    if (!out.includes(r)) out.push(r);
  };
  for (const row of experiment.rows) add(row.run);
  return out;
}
