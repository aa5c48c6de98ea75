/**
 * One xterm.js terminal in a panel: the app's colours and fonts, sized to its container by @xterm/addon-fit and
 * kept so (a ResizeObserver refits on every panel size change: window, phone rotation, on-screen keyboard). Used
 * read-only for pipe agents' output and interactive for terminal agents. `dispose()` releases the terminal and the
 * observer.
 */
import { Terminal, type ITerminalOptions } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { h } from "../dom.js";
import { defineAdoptedStyle } from "./adopted-style.js";

export interface TermSize {
  cols: number;
  rows: number;
}

export interface TermPanel {
  /** The container to place in the page (the terminal fills it). */
  el: HTMLElement;
  term: Terminal;
  /** Refit now (also done on every container resize); returns the size, or undefined while hidden. */
  fit(): TermSize | undefined;
  /** Called after a fit changed the terminal's size (not while a fixed size is set). */
  onResize(listener: (size: TermSize) => void): void;
  /**
   * Pin the terminal to a size (a watcher shows the writer's size: the program draws for that) or, with undefined,
   * follow the panel again. A pinned terminal larger than the panel scrolls inside it.
   */
  setFixedSize(size: TermSize | undefined): void;
  dispose(): void;
}

/** Dark like the old output pane in both themes (agents' colours are chosen for dark terminals). */
const THEME: ITerminalOptions["theme"] = {
  background: "#101317",
  foreground: "#e6e8eb",
  cursor: "#e6e8eb",
  cursorAccent: "#101317",
  selectionBackground: "#3a4a66",
};

const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';

export function createTermPanel(options: {
  className: string;
  label: string;
  readOnly: boolean;
  convertEol?: boolean;
  fontSize?: number;
}): TermPanel {
  defineAdoptedStyle();
  const el = h("div", { class: `term ${options.className}`, attrs: { "aria-label": options.label } });
  const term = new Terminal({
    theme: THEME,
    fontFamily: MONO,
    fontSize: options.fontSize ?? (window.matchMedia("(max-width: 800px)").matches ? 12 : 13),
    scrollback: 5000,
    convertEol: options.convertEol ?? false,
    disableStdin: options.readOnly,
    cursorBlink: !options.readOnly,
    cursorInactiveStyle: options.readOnly ? "none" : "outline",
    // Pasting many lines into a program that did not ask for it must not run them one by one.
    ignoreBracketedPasteMode: false,
    allowProposedApi: false,
  });
  // Ctrl-C (or Cmd-C) with a selection copies it instead of interrupting the program — what users of VS Code's and
  // most desktop terminals expect; without a selection it is the program's Ctrl-C as usual.
  term.attachCustomKeyEventHandler((ev) => {
    if (
      ev.type !== "keydown" ||
      !(ev.ctrlKey || ev.metaKey) ||
      ev.altKey ||
      ev.key.toLowerCase() !== "c" ||
      !term.hasSelection()
    )
      return true;
    const text = term.getSelection();
    term.clearSelection();
    navigator.clipboard?.writeText(text).catch(() => {});
    ev.preventDefault();
    return false;
  });
  const fitter = new FitAddon();
  term.loadAddon(fitter);
  term.open(el);
  if (options.readOnly) term.write("\x1b[?25l"); // no cursor in a log view

  const listeners: ((size: TermSize) => void)[] = [];
  let frame = 0;
  let disposed = false;
  let fixed: TermSize | undefined;
  const fit = (): TermSize | undefined => {
    if (disposed) return undefined;
    if (fixed) {
      if (fixed.cols !== term.cols || fixed.rows !== term.rows) term.resize(fixed.cols, fixed.rows);
      return fixed;
    }
    if (el.clientWidth === 0 || el.clientHeight === 0) return undefined;
    const proposed = fitter.proposeDimensions();
    if (!proposed || !Number.isFinite(proposed.cols) || !Number.isFinite(proposed.rows)) return undefined;
    const size = { cols: Math.max(2, proposed.cols), rows: Math.max(1, proposed.rows) };
    if (size.cols !== term.cols || size.rows !== term.rows) {
      term.resize(size.cols, size.rows);
      for (const l of listeners) l(size);
    }
    return size;
  };
  // One fit per animation frame at most (a drag resize fires many observations).
  const observer = new ResizeObserver(() => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      fit();
    });
  });
  observer.observe(el);

  return {
    el,
    term,
    fit,
    onResize(listener) {
      listeners.push(listener);
    },
    setFixedSize(size) {
      fixed = size && { cols: Math.max(2, size.cols), rows: Math.max(1, size.rows) };
      el.classList.toggle("fixed-size", fixed !== undefined);
      fit();
    },
    dispose() {
      disposed = true;
      observer.disconnect();
      if (frame) cancelAnimationFrame(frame);
      term.dispose();
    },
  };
}
