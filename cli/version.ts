/** repr's version, as `repr --version` prints it and checkpoints record it. */
export const VERSION = "0.1.0";
