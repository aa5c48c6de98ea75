/**
 * The screen of a terminal agent, kept in step with its output log: an @xterm/headless terminal fed with every
 * logged chunk, serialized on demand with @xterm/addon-serialize (VS Code restores its persistent terminals the
 * same way). This is what makes attaching cheap: snapshot (bounded by cols × (rows + scrollback)) + the log after
 * the snapshot's seq, never a replay of the whole history.
 *
 * Ordering: the headless terminal parses writes asynchronously, in order. Each chunk's write callback advances
 * `applied` (the first seq not yet parsed); resizes are queued behind the writes that came before them; and
 * snapshot() serializes inside the callback of an empty write, when exactly the chunks before `applied` are parsed.
 */
import headless from "@xterm/headless";
import serialize from "@xterm/addon-serialize";
import type { ScreenSnapshot } from "./types.js";

/** Lines of scrollback kept (and serialized) per terminal agent. */
export const SCREEN_SCROLLBACK = 1000;

export class ScreenState {
  private readonly term: InstanceType<typeof headless.Terminal>;
  private readonly addon: InstanceType<typeof serialize.SerializeAddon>;
  private applied: number;
  private disposed = false;

  /** `nextSeq`: the seq of the first chunk that will be written (1 for a new agent). */
  constructor(cols: number, rows: number, nextSeq = 1) {
    this.term = new headless.Terminal({ cols, rows, scrollback: SCREEN_SCROLLBACK, allowProposedApi: true });
    this.addon = new serialize.SerializeAddon();
    this.term.loadAddon(this.addon as never);
    this.applied = nextSeq;
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }

  /** Feed one logged chunk; call in seq order. */
  write(seq: number, data: Uint8Array): void {
    if (this.disposed) return;
    this.term.write(data, () => {
      this.applied = seq + 1;
    });
  }

  /** Resize after everything written so far (the program redraws for the new size after this point). */
  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.term.write("", () => {
      if (!this.disposed) this.term.resize(cols, rows);
    });
  }

  /** The screen as of every chunk written before this call, and the first seq it does not reflect. */
  snapshot(): Promise<ScreenSnapshot> {
    if (this.disposed) return Promise.reject(new Error("screen state was disposed"));
    return new Promise((res) => {
      this.term.write("", () => {
        res({ seq: this.applied, cols: this.term.cols, rows: this.term.rows, data: this.addon.serialize({ scrollback: SCREEN_SCROLLBACK }) });
      });
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.term.dispose();
  }
}
