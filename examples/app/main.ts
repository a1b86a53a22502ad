/**
 * The example app, in Node: loads the weights the README's main job trained,
 * encodes MNIST digits with the compiled autoencoder, and prints the nearest
 * neighbours of a few test digits among the training digits, by the cosine
 * similarity of their 32-number codes.
 *
 *     npm start                       # trains runs/mnist-autoencoder/1-pretrain.safetensors
 *     npx tsx examples/app/main.ts [weights.safetensors]
 */
import { readFileSync } from "node:fs";
import { mnistDigits } from "repr/runtime/node";
import { Autoencoder } from "./autoencoder.js";
import { describeSearch, searchNeighbours } from "./nearest-digits.js";

const weightsPath = process.argv[2] ?? "runs/mnist-autoencoder/1-pretrain.safetensors";
let weights: Uint8Array;
try {
  weights = readFileSync(weightsPath);
} catch {
  process.stderr.write(`cannot read ${weightsPath}: train the autoencoder first with \`npm start\`, or name a checkpoint\n`);
  process.exit(1);
}

const digits = await mnistDigits();
{
  using model = await Autoencoder.create({ weights });
  const search = await searchNeighbours(model, digits.train, digits.test, 5);
  for (const line of describeSearch(search, digits.test, digits.train, 8)) process.stdout.write(line + "\n");
}
