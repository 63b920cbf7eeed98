/**
 * Plain-line progress on stderr: each operation as it starts and ends,
 * whether it was cached, how long it took, and the tail of a failed
 * command's output.
 */
import type { ProgressEvent } from "../http/session-protocol.js";

export function progressPrinter(write: (line: string) => void): (e: ProgressEvent) => void {
  return (e) => {
    switch (e.type) {
      case "start":
        write(`▶ ${e.name}\n`);
        break;
      case "done":
        write(e.cached ? `✔ ${e.name} CACHED\n` : `✔ ${e.name} ${(e.durationMs / 1000).toFixed(2)}s\n`);
        break;
      case "error":
        write(`✘ ${e.name} ${(e.durationMs / 1000).toFixed(2)}s: ${e.message}\n`);
        if (e.outputTail)
          write(
            e.outputTail
              .split("\n")
              .map((l) => `  │ ${l}\n`)
              .join(""),
          );
        break;
      case "message":
        write(`• ${e.text}\n`);
        break;
      case "log":
        break;
    }
  };
}
