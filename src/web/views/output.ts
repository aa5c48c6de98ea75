/**
 * The output pane: agent output appended as text nodes (stderr marked), decoded as UTF-8 across chunk boundaries,
 * terminal escapes stripped, bounded in size, and kept scrolled to the newest line unless the user scrolled up.
 */
import type { LogChunk } from "../../index.js";
import { h, flag } from "../dom.js";
import { stripAnsi } from "../format.js";

/** Characters kept in the pane; older output is dropped from the top (the daemon still has all of it). */
const MAX_CHARS = 512 * 1024;
/** Distance from the bottom (px) within which the pane counts as "at the end" and keeps following. */
const STICK_PX = 32;

export interface OutputPane {
  el: HTMLElement;
  append(chunk: LogChunk): void;
  /** A note between output lines (agent ended, reconnecting …), styled apart from the output. */
  note(text: string, kind?: "info" | "warn"): void;
  /** Last sequence number shown (0 before any output). */
  readonly lastSeq: number;
}

export function createOutputPane(): OutputPane {
  const pre = h("pre", { class: "output", attrs: { tabindex: "0", "aria-label": "Agent output", "aria-live": "off", "data-seq": "0" } });
  const jump = h("button", { class: "jump small", text: "↓ Latest output", attrs: { type: "button", hidden: true } });
  const el = h("div", { class: "output-wrap" }, pre, jump);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let chars = 0;
  let lastSeq = 0;
  let stick = true;

  const atBottom = () => pre.scrollTop + pre.clientHeight >= pre.scrollHeight - STICK_PX;
  const toBottom = () => {
    pre.scrollTop = pre.scrollHeight;
  };
  pre.addEventListener("scroll", () => {
    stick = atBottom();
    flag(jump, "hidden", stick);
  });
  jump.addEventListener("click", () => {
    stick = true;
    toBottom();
    flag(jump, "hidden", true);
  });

  const add = (node: Node, length: number) => {
    pre.appendChild(node);
    chars += length;
    while (chars > MAX_CHARS && pre.firstChild) {
      chars -= pre.firstChild.textContent?.length ?? 0;
      pre.firstChild.remove();
    }
    if (stick) toBottom();
    else flag(jump, "hidden", false);
  };

  return {
    el,
    get lastSeq() {
      return lastSeq;
    },
    append(chunk) {
      lastSeq = chunk.seq;
      pre.setAttribute("data-seq", String(chunk.seq));
      const text = stripAnsi(decoders[chunk.stream].decode(chunk.data, { stream: true }));
      if (text.length === 0) return;
      if (chunk.stream === "stderr") add(h("span", { class: "stderr", text }), text.length);
      else add(document.createTextNode(text), text.length);
    },
    note(text, kind = "info") {
      const needsBreak = (pre.lastChild?.textContent ?? "\n").endsWith("\n") ? "" : "\n";
      add(h("span", { class: `note ${kind}`, text: `${needsBreak}— ${text} —\n` }), text.length + 5);
    },
  };
}
