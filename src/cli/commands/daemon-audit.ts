/**
 * `paseo daemon input off|on` (the input kill switch, input.json) and `paseo daemon audit` (reads audit.jsonl).
 * Both only touch files under PASEO_HOME, so they work whether or not the daemon runs; a running daemon sees
 * input.json change through its home-directory watcher within milliseconds.
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { AUDIT_FILE, AUDIT_OLD_FILE, appendAudit, type AuditLine } from "../../daemon/audit-log.js";
import { resolveHome } from "../../daemon/home.js";
import { INPUT_ON_HINT, writeInputFile } from "../../daemon/input-switch.js";
import { escapeControls } from "../../protocol/escape.js";
import { info, printJson, table } from "../output.js";
import { parseDuration } from "./pair.js";

/** How often `audit --follow` looks for new lines and for a rotation. */
const FOLLOW_POLL_MS = 200;

export function registerAuditCommands(d: Command): void {
  d.command("input")
    .description("turn agent input (send, terminal typing) off or on for every client: the input kill switch")
    .argument("<state>", "off | on", (v: string) => {
      if (v !== "on" && v !== "off") throw new InvalidArgumentError('expected "on" or "off"');
      return v;
    })
    .option("--home <dir>", "PASEO_HOME")
    .option("--json", "machine-readable output")
    .action(async (state: "on" | "off", flags: { home?: string; json?: boolean }) => {
      const home = resolveHome(flags.home);
      const written = await writeInputFile(home, state === "on");
      appendAudit(home, { event: state === "on" ? "input.on" : "input.off" });
      if (flags.json) printJson(written);
      else
        info(
          state === "on"
            ? "input enabled: clients may send to agents and type in terminals again"
            : `input disabled: every client's send and terminal input is refused until \`${INPUT_ON_HINT}\``,
        );
    });

  d.command("audit")
    .description("show the audit log: handshakes, state-changing requests, lane takes, offers, input switch")
    .option("--home <dir>", "PASEO_HOME")
    .option("--json", "print the raw JSON lines")
    .option("--follow", "keep printing new entries (across rotation) until Ctrl-C")
    .option("--device <id>", "only entries of this device (or offer) id")
    .option("--since <duration>", "only entries newer than this, e.g. 30m, 12h, 7d", parseDuration)
    .action(async (flags: { home?: string; json?: boolean; follow?: boolean; device?: string; since?: number }) => {
      const home = resolveHome(flags.home);
      const since = flags.since !== undefined ? Date.now() - flags.since : undefined;
      const keep = (line: AuditLine) =>
        (flags.device === undefined || line.actor?.id === flags.device || line.deviceId === flags.device) &&
        (since === undefined || Date.parse(line.at) >= since);
      const print = (lines: { raw: string; line: AuditLine }[], aligned: boolean) => {
        const shown = lines.filter((l) => keep(l.line));
        if (flags.json) {
          if (shown.length) process.stdout.write(shown.map((l) => `${l.raw}\n`).join(""));
        } else if (aligned) {
          process.stdout.write(
            `${table(
              ["TIME", "ACTOR", "EVENT", "DETAILS"],
              shown.map((l) => row(l.line)),
            )}\n`,
          );
        } else for (const l of shown) process.stdout.write(`${row(l.line).map(escapeControls).join("  ")}\n`);
      };
      const old = parseLines(await readAll(join(home, AUDIT_OLD_FILE)));
      if (!flags.follow) {
        print([...old, ...parseLines(await readAll(join(home, AUDIT_FILE)))], true);
        return;
      }
      print(old, false);
      await follow(join(home, AUDIT_FILE), (text) => print(parseLines(text), false));
    });
}

function row(line: AuditLine): string[] {
  const actor = line.actor ? `${line.actor.kind}${line.actor.id ? ` ${line.actor.id}` : ""}` : "?";
  const details = Object.entries(line)
    .filter(([k]) => k !== "at" && k !== "event" && k !== "actor")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return [line.at, actor, line.event, details];
}

function parseLines(text: string): { raw: string; line: AuditLine }[] {
  const out: { raw: string; line: AuditLine }[] = [];
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    try {
      out.push({ raw, line: JSON.parse(raw) as AuditLine });
    } catch {
      // a torn last line (a writer mid-append is impossible with O_APPEND, but a hand edit is not): skip it
    }
  }
  return out;
}

async function readAll(path: string): Promise<string> {
  try {
    const h = await open(path, "r");
    try {
      return await h.readFile("utf8");
    } finally {
      await h.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/**
 * Tail `path` until SIGINT/SIGTERM (exit 0). On rotation (the path names a new file) the rest of the old file is
 * read through the still-open handle first, so no entry written just before the rename is missed.
 */
async function follow(path: string, emit: (text: string) => void): Promise<void> {
  let handle: FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  let partial = "";
  const drain = async () => {
    if (!handle) return;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const text = partial + buf.subarray(0, bytesRead).toString("utf8");
      const cut = text.lastIndexOf("\n") + 1;
      partial = text.slice(cut);
      if (cut > 0) emit(text.slice(0, cut));
    }
  };
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  while (!stopped) {
    const s = await stat(path).catch(() => undefined);
    if (s && s.ino !== ino) {
      await drain(); // the old file's last lines
      await handle?.close();
      handle = await open(path, "r").catch(() => undefined);
      ino = handle ? s.ino : -1;
      pos = 0;
      partial = "";
    }
    await drain();
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  }
  await handle?.close();
  process.exitCode = 0;
}
