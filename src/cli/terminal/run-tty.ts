/**
 * `paseo run --tty [--cols N --rows M]`: the agent's terminal size defaults to this terminal's (stdout's, else
 * stderr's), else 80×24 (the daemon checks the limits and names them). --cols/--rows without --tty are a usage error.
 */
import { PaseoError } from "../../protocol/errors.js";
import { TTY_MAX_COLS, TTY_MAX_ROWS } from "../../protocol/rpc-params.js";
import { localSize } from "./raw-terminal.js";

export function ttyRunOptions(flags: { tty?: boolean; cols?: number; rows?: number }): {
  tty?: true;
  cols?: number;
  rows?: number;
} {
  if (!flags.tty) {
    if (flags.cols !== undefined || flags.rows !== undefined)
      throw new PaseoError("BAD_PARAMS", "--cols and --rows need --tty");
    return {};
  }
  const local = localSize();
  return {
    tty: true,
    cols: flags.cols ?? Math.min(local.cols, TTY_MAX_COLS),
    rows: flags.rows ?? Math.min(local.rows, TTY_MAX_ROWS),
  };
}
