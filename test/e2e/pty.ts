/**
 * A real terminal for CLI tests: `sh` under a PTY (@lydell/node-pty), so a test types commands like a user —
 * including `paseo attach`, raw-mode keys, and `stty` afterwards to see that the terminal was restored. Every wait
 * is bounded; killAllPtys() ends every PTY started here.
 */
import ptyModule from "@lydell/node-pty";
import type { IPty } from "@lydell/node-pty";
import { CLI } from "./harness.js";

const live = new Set<IPty>();

export interface Pty {
  /** The shell's pid. */
  readonly pid: number;
  readonly text: string;
  /** Output after `mark()` only. */
  since(mark: number): string;
  mark(): number;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  exited: Promise<number>;
  kill(): void;
}

/** `sh` in a cols × rows PTY with PS1 "$ " and `paseo` = this checkout's CLI. */
export function shellPty(env: Record<string, string> = {}, cols = 100, rows = 30): Pty {
  const proc = ptyModule.spawn("sh", [], {
    name: "xterm-256color",
    cols,
    rows,
    cwd: process.cwd(),
    env: {
      ...(process.env as Record<string, string>),
      PS1: "$ ",
      PASEO_RELAY_OFFER: "",
      ...env,
      PASEO: `${process.execPath} ${CLI}`,
    },
  });
  live.add(proc);
  let text = "";
  const waiters = new Set<() => void>();
  proc.onData((d) => {
    text += d;
    for (const w of waiters) w();
  });
  const exited = new Promise<number>((resolve) =>
    proc.onExit(({ exitCode }) => {
      live.delete(proc);
      resolve(exitCode);
    }),
  );
  return {
    pid: proc.pid,
    get text() {
      return text;
    },
    since: (mark) => text.slice(mark),
    mark: () => text.length,
    write: (data) => proc.write(data),
    resize: (c, r) => proc.resize(c, r),
    exited,
    kill: () => proc.kill("SIGKILL"),
    waitFor(pattern, timeoutMs = 8000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text.slice(from).match(pattern);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out waiting for ${pattern}; screen tail: ${JSON.stringify(text.slice(-600).replace(/#offer=\S+/g, "#offer=<redacted>"))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export function killAllPtys(): void {
  for (const p of live) {
    try {
      p.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}
