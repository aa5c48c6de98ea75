/**
 * A terminal agent's final screen, kept after it ended: `<dir>/<id>/screen.json` ({seq, cols, rows, data}, 0600,
 * atomic). Written when the agent ends, so screen() of an ended agent costs one small file read, not a replay.
 * A record without one (an agent from before this file existed, or one whose runtime vanished) gets a screen
 * rebuilt from the tail of its log: bounded work, and the best available picture of how it ended.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../home.js";
import type { LogFile } from "./log-file.js";
import type { AgentRuntime } from "./local-runtime.js";
import type { AgentInfo, Logger, ScreenSnapshot } from "./types.js";
import { TTY_DEFAULT_COLS, TTY_DEFAULT_ROWS } from "../../protocol/rpc-params.js";

/** How much of the log's tail a rebuilt screen replays. */
const REBUILD_TAIL_BYTES = 1 << 20;

function screenPath(agentDir: string): string {
  return join(agentDir, "screen.json");
}

/** Take the ended runtime's final screen and persist it. Failures are logged; the snapshot is still returned. */
export async function finalScreen(proc: AgentRuntime, agentDir: string, log: Logger): Promise<ScreenSnapshot | null> {
  let snap: ScreenSnapshot;
  try {
    snap = await proc.screen();
  } catch (err) {
    log("warn", `cannot take the final screen: ${(err as Error).message}`);
    return null;
  }
  await writeScreen(agentDir, snap).catch((err: Error) => log("warn", `cannot save the final screen: ${err.message}`));
  return snap;
}

export async function writeScreen(agentDir: string, snap: ScreenSnapshot): Promise<void> {
  await writeFileAtomic(screenPath(agentDir), `${JSON.stringify(snap)}\n`, 0o600);
}

/** The saved final screen, or one rebuilt from the log's tail. */
export async function readScreen(agentDir: string, info: AgentInfo, lf: LogFile, log: Logger): Promise<ScreenSnapshot> {
  try {
    const s = JSON.parse(await readFile(screenPath(agentDir), "utf8")) as ScreenSnapshot;
    if (
      [s.seq, s.cols, s.rows].every((n) => Number.isInteger(n) && n >= 1) &&
      typeof s.data === "string" &&
      s.seq <= lf.nextSeq
    )
      return s;
    log("warn", `agent ${info.id}: screen.json is invalid; rebuilding the screen from the log`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      log("warn", `agent ${info.id}: cannot read screen.json (${(err as Error).message}); rebuilding`);
  }
  return rebuildScreen(info, lf, log);
}

async function rebuildScreen(info: AgentInfo, lf: LogFile, log: Logger): Promise<ScreenSnapshot> {
  // Find where the last REBUILD_TAIL_BYTES start by walking back from the end in seq steps (bounded reads).
  const end = lf.nextSeq;
  let from = Math.max(1, end - 1);
  let bytes = 0;
  while (from > 1 && bytes < REBUILD_TAIL_BYTES) {
    const step = Math.max(1, Math.min(from - 1, 256));
    const r = await lf.read(from - step, REBUILD_TAIL_BYTES);
    bytes += r.chunks.filter((c) => c.seq < from).reduce((n, c) => n + c.data.length, 0);
    from -= step;
  }
  const { ScreenState } = await import("./screen-state.js"); // @xterm/headless: only when a screen is rebuilt
  const screen = new ScreenState(info.cols ?? TTY_DEFAULT_COLS, info.rows ?? TTY_DEFAULT_ROWS, lf, from, log);
  try {
    return await screen.snapshot(); // follows the (sealed) log from `from` to its end
  } finally {
    screen.dispose();
  }
}
