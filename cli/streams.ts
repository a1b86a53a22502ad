/**
 * When repr's own output goes away. `repr check --shapes f.repr | head -1`
 * closes the pipe after one line; the next write fails with EPIPE, which
 * Node reports as an `error` event on `process.stdout` — a raw stack trace
 * if nobody listens. repr listens on stdout and stderr: a closed pipe ends
 * the process quietly with the status a shell gives a program killed by
 * SIGPIPE (141), as `yes | head -1` does; any other failure to write an
 * output stream (`> /dev/full`) is a user error naming the stream (exit 1).
 *
 * A training run must not lose its updates to a closed terminal: while it
 * runs it installs its own handler (`whileOutputCloses`), which stops the run
 * at the next update and writes its resume checkpoint, as SIGINT does.
 */
import { messages } from "../language/diagnostics/messages.js";
import { formatMessage } from "../language/diagnostics/diagnostic.js";
import { ExitCode } from "./errors.js";

/** The exit status of a program whose output pipe closed: 128 + SIGPIPE (13). */
export const CLOSED_OUTPUT_EXIT = 141;

/** What a closed output does now: end the process, unless a training run asked to stop instead. */
let onClosed: () => void = () => process.exit(CLOSED_OUTPUT_EXIT);

/**
 * Runs `handler` instead of exiting when an output stream closes, until the
 * returned function is called (which restores the default).
 */
export function whileOutputCloses(handler: () => void): () => void {
  const previous = onClosed;
  onClosed = handler;
  return () => {
    onClosed = previous;
  };
}

/** Error codes that mean the reader went away (the pipe or terminal is closed), not that writing failed. */
const CLOSED = new Set(["EPIPE", "ECONNRESET", "ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END"]);

/** Listens for errors on stdout and stderr; call once, before anything is written. */
export function guardOutputStreams(): void {
  const streams = [
    { stream: process.stdout, name: "standard output" },
    { stream: process.stderr, name: "standard error" },
  ];
  for (const { stream, name } of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (CLOSED.has(err.code ?? "")) {
        onClosed();
        return;
      }
      // Output that cannot be written (a full disk) is lost: say so on the other stream if it still works.
      if (stream === process.stdout) {
        const text = formatMessage(messages.cannotWrite, { path: name, reason: err.code === "ENOSPC" ? "no space left on the device" : err.message });
        try {
          process.stderr.write(`repr: error ${messages.cannotWrite.code}: ${text}\n`);
        } catch {
          // Nowhere left to report it; the exit status says it.
        }
      }
      process.exit(ExitCode.userError);
    });
  }
}
