/**
 * Checkpoints: safetensors files with the parameter names and layouts of
 * spec/checkpoints.md, written atomically and checked against the model on load.
 */
export { CheckpointError, type CheckpointProblem } from "./errors.js";
export { dtypes, type Dtype, type DtypeArrays, type Tensor } from "./dtypes.js";
export { decodeSafetensors, encodeSafetensors, MAX_HEADER_LENGTH, type DecodedCheckpoint } from "./safetensors.js";
export {
  nodeFileSystem,
  readCheckpoint,
  writeCheckpointAtomic,
  type CheckpointFileSystem,
  type WritableFile,
} from "./files.js";
export {
  compareParameters,
  formatParameterReport,
  matchParameters,
  ParameterMismatchError,
  reportIsClean,
  suggestName,
  type ExpectedParameter,
  type ParameterReport,
  type UnexpectedTensor,
} from "./match.js";
export { firstNonFinite, nonFiniteProblem, positionOf } from "./finite.js";
export { checkpointMetadata, metadataKeys, readCheckpointInfo, type CheckpointInfo } from "./metadata.js";
