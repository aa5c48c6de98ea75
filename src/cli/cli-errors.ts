/**
 * CLI-specific errors and wording. The daemon and the SDK speak in API terms (`all: true`, `shell: true`); a CLI
 * user types flags. Messages are translated here, at the last moment, so JSON/SDK error codes and the daemon's
 * wire messages stay as they are.
 */
import { PaseoError } from "../protocol/errors.js";

/** No local daemon for this home: nothing to connect to without --relay. */
export class NoLocalDaemonError extends PaseoError {
  constructor(home: string) {
    super(
      "DAEMON_OFFLINE",
      `no daemon is running with home ${home}: start one with \`paseo daemon start\`, or pass --relay <link|file> to reach another machine`,
    );
  }
}

/** The local daemon went away while a command was using it (its local offer dies with it: reconnecting is futile). */
export class LocalDaemonStoppedError extends PaseoError {
  constructor(home: string, detail: string) {
    super(
      "DAEMON_OFFLINE",
      `the daemon with home ${home} went away: ${detail}; start it again with \`paseo daemon start\` and rerun the command`,
    );
  }
}

/** API parameter wording in daemon messages → the CLI flag that sets it. Whole phrases only, so nothing else moves. */
const API_TO_FLAG: [RegExp, string][] = [
  [/\bwith all: true\b/g, "with `paseo ls -a`"],
  [/\ball: true\b/g, "-a"],
  [/\bpass shell: true\b/g, "pass --shell"],
  [/\bshell: true\b/g, "--shell"],
  [/"?\bgraceMs\b"?/g, "--grace"],
  [/"name"/g, "--name"],
  [/"cwd"|\bcwd(?= must| contains)/g, "--cwd"],
  [/"since"/g, "--since"],
];

export function cliWording(message: string): string {
  let out = message;
  for (const [pattern, flag] of API_TO_FLAG) out = out.replace(pattern, flag);
  return out;
}
