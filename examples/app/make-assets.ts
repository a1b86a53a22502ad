/**
 * Writes what the browser app fetches into examples/app/public/: the trained
 * weights and the MNIST digits as .npy files (images as bytes).
 *
 *     npx tsx examples/app/make-assets.ts [weights.safetensors]
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeNpy } from "repr/runtime";
import { mnistDigits } from "repr/runtime/node";

const out = join(import.meta.dirname, "public");
const weights = process.argv[2] ?? "runs/mnist-autoencoder/1-pretrain.safetensors";
mkdirSync(out, { recursive: true });
copyFileSync(weights, join(out, "weights.safetensors"));
const digits = await mnistDigits();
for (const [name, split] of Object.entries(digits)) {
  const n = split.labels.length;
  writeFileSync(join(out, `${name}-images.npy`), encodeNpy(Uint8Array.from(split.images, (v) => Math.round(v * 255)), [n, 28, 28], "|u1"));
  writeFileSync(join(out, `${name}-labels.npy`), encodeNpy(split.labels, [n], "<i4"));
}
process.stdout.write(`wrote ${out}: weights.safetensors and ${Object.keys(digits).map((k) => `${k}-images.npy, ${k}-labels.npy`).join(", ")}\n`);
