/**
 * The data layer: loading a data set from its sources, checked against its
 * declaration, and serving it in shuffled batches. See spec/data.md.
 */
export * from "./spec.js";
export * from "./split.js";
export * from "./errors.js";
export { loadDataset, type SourceBinding, type LoadOptions } from "./load.js";
export { selectSplit, type Selection } from "./select.js";
export { shuffledOrder, DEFAULT_SHUFFLE_NAME } from "./shuffle.js";
export { gatherBatch } from "./batch.js";
export { toColumn, describeArray, type RawArray, type RawDtype } from "./column.js";
export { decodeNpy, encodeNpy, type NpyDtype } from "./npy.js";
export { decodeIdx, encodeIdx, type IdxDtype } from "./idx.js";
export { parseCsv, csvColumnsOf, type CsvTable } from "./csv.js";
export { tokenizeChars, tokenizeWords, wordsOf, skipGramPairs, windows, ASCII_VOCAB, PAIR_WINDOW, OTHER_CHAR, OTHER_WORD, type Tokenized } from "./text.js";
export { fitsMnist, mnistSplits, MNIST_SOURCE, MNIST_ORIGIN } from "./mnist.js";
