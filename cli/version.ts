/** repr's version, as `repr --version` prints it and checkpoints record it: the runtime's. */
export { REPR_VERSION as VERSION } from "../runtime/api/version.js";
