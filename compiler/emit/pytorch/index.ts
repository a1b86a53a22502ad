/** Emitting a compiled model as a PyTorch module and training scripts: `describePytorch` decides, `printPytorch` lays it out. */
export { describePytorch, pyValue, PytorchExportError, type PyModule, type PyClass, type PyMethod, type PyScript } from "./describe.js";
export { printPytorch, printModel, printScript } from "./print.js";
export { pyString, pyIdentifier, pyFloat } from "./python.js";
