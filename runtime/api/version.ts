/** The repr version the runtime writes into checkpoints it saves (`repr.version`); the same as `repr --version`. */
export const REPR_VERSION = "0.1.0";
