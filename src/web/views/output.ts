/**
 * A pipe agent's output in a read-only xterm.js view, so it looks as it would in a terminal: ANSI colours and
 * styles, `\r` progress lines redrawn in place, cursor movement. Pipes carry bare `\n` (no terminal translates it),
 * so line feeds are converted to CR LF. stdout and stderr are decoded as UTF-8 separately (a character split across
 * chunks of one stream is not broken by the other), and stderr is shown in a light red unless it sets its own
 * colours. The view follows the newest line unless the user scrolled up (xterm's own behaviour); its scrollback is
 * bounded (the daemon still has everything: `paseo logs`).
 */
import type { LogChunk } from "../../index.js";
import { h } from "../dom.js";
import { createTermPanel, type TermPanel } from "../term/xterm.js";

const STDERR_ON = "\x1b[38;5;210m";
const STDERR_OFF = "\x1b[39m";

export interface OutputPane {
  el: HTMLElement;
  append(chunk: LogChunk): void;
  /** A note between output lines (agent ended, reconnecting …), styled apart from the output. */
  note(text: string, kind?: "info" | "warn"): void;
  /** Last sequence number shown (0 before any output). */
  readonly lastSeq: number;
  dispose(): void;
}

export function createOutputPane(): OutputPane {
  const panel: TermPanel = createTermPanel({
    className: "output",
    label: "Agent output",
    readOnly: true,
    convertEol: true,
  });
  const el = h("div", { class: "output-wrap", attrs: { "data-seq": "0" } }, panel.el);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let lastSeq = 0;
  let atLineStart = true;

  const write = (text: string) => {
    if (text.length === 0) return;
    panel.term.write(text);
    atLineStart = text.endsWith("\n");
  };
  // Fit once the panel is in the page (it has no size before).
  requestAnimationFrame(() => panel.fit());

  return {
    el,
    get lastSeq() {
      return lastSeq;
    },
    append(chunk) {
      lastSeq = chunk.seq;
      el.setAttribute("data-seq", String(chunk.seq));
      const text = decoders[chunk.stream].decode(chunk.data, { stream: true });
      if (text.length === 0) return;
      if (chunk.stream === "stderr") {
        panel.term.write(STDERR_ON);
        write(text);
        panel.term.write(STDERR_OFF);
      } else write(text);
    },
    note(text, kind = "info") {
      const colour = kind === "warn" ? "\x1b[3;33m" : "\x1b[3;38;5;111m";
      write(`${atLineStart ? "" : "\n"}${colour}— ${text} —\x1b[0m\n`);
    },
    dispose() {
      panel.dispose();
    },
  };
}
