/**
 * The input kill switch: `$PASEO_HOME/input.json` = `{ "inputEnabled": false, "changedAt": ISO }`; absent = enabled.
 * `paseo daemon input off|on` writes it (0600, atomic rename); the daemon learns of the change through the
 * offers watcher (OfferSessions watches the home directory; see daemon.ts) and re-reads it. While off, every
 * agent-input path (agents.input, terminal.input) is refused with INPUT_DISABLED (docs/protocol.md §8.2).
 *
 * The file, not a signal, is the source of truth (same reasoning as offers.json): it survives a daemon restart and
 * a lost watch event. A check before each input also stats the file, so a missed event cannot leave input open.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { PaseoError } from "../protocol/errors.js";
import { RpcErrorCode } from "../protocol/rpc.js";
import { writeFileAtomic } from "./home.js";

export const INPUT_FILE = "input.json";
export const INPUT_ON_HINT = "paseo daemon input on";

export interface InputFile {
  inputEnabled: boolean;
  changedAt: string | null;
}

/** Refused agent input while the kill switch is off. */
export class InputDisabledError extends PaseoError {
  constructor() {
    super(
      RpcErrorCode.INPUT_DISABLED,
      `input is turned off on this daemon; on the daemon's machine run \`${INPUT_ON_HINT}\``,
    );
  }
}

/** Read input.json. Absent → enabled; unreadable or malformed → disabled (fail closed: someone meant to turn it off). */
export function readInputFile(home: string): InputFile {
  let text: string;
  try {
    text = readFileSync(join(home, INPUT_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { inputEnabled: true, changedAt: null };
    return { inputEnabled: false, changedAt: null };
  }
  try {
    const v = JSON.parse(text) as Partial<InputFile>;
    return {
      inputEnabled: v.inputEnabled !== false,
      changedAt: typeof v.changedAt === "string" ? v.changedAt : null,
    };
  } catch {
    return { inputEnabled: false, changedAt: null };
  }
}

/** Write input.json atomically, 0600 (the CLI). */
export async function writeInputFile(home: string, inputEnabled: boolean): Promise<InputFile> {
  const value: InputFile = { inputEnabled, changedAt: new Date().toISOString() };
  await writeFileAtomic(join(home, INPUT_FILE), `${JSON.stringify(value)}\n`, 0o600);
  return value;
}

/** The daemon's view of the switch, re-read when the file changes (by stat signature). */
export class InputSwitch {
  private signature = "";
  private state: InputFile = { inputEnabled: true, changedAt: null };

  constructor(
    readonly home: string,
    private readonly onChange: (state: InputFile) => void = () => {},
  ) {
    this.refresh();
  }

  get enabled(): boolean {
    this.refresh();
    return this.state.inputEnabled;
  }

  get current(): InputFile {
    this.refresh();
    return this.state;
  }

  /** Throws InputDisabledError when input is off. */
  check(): void {
    if (!this.enabled) throw new InputDisabledError();
  }

  /** Re-read input.json if its stat signature changed. Called by the home-directory watcher and before each check. */
  refresh(): void {
    let sig: string;
    try {
      const s = statSync(join(this.home, INPUT_FILE));
      sig = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      sig = "absent";
    }
    if (sig === this.signature) return;
    this.signature = sig;
    const before = this.state.inputEnabled;
    this.state = readInputFile(this.home);
    if (before !== this.state.inputEnabled) this.onChange(this.state);
  }
}
