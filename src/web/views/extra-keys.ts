/**
 * The extra-keys bar for phones (on-screen keyboards have no Esc, Tab, Ctrl or arrows): Esc, Tab, a sticky Ctrl
 * (applies to the next key typed or tapped, like Termux's), and the four arrows. Arrows follow the terminal's
 * cursor-key mode (DECCKM: `ESC O A` in full-screen programs, `ESC [ A` otherwise), as a real keyboard would.
 * Buttons never take the focus from the terminal, so the on-screen keyboard stays open.
 */
import { ctrlOf } from "../../index.js"; // one Ctrl mapping for every client (MCP terminal_type too)
import { h } from "../dom.js";

export interface ExtraKeys {
  el: HTMLElement;
  /** Apply a pending sticky Ctrl to data typed on the keyboard (and release it). */
  transform(data: string): string;
  setEnabled(on: boolean): void;
}

type Arrow = "A" | "B" | "C" | "D";

export function createExtraKeys(options: {
  send: (data: string) => void;
  applicationCursor: () => boolean;
}): ExtraKeys {
  let ctrl = false;
  let enabled = true;
  const ctrlButton = h("button", {
    class: "key toggle",
    text: "Ctrl",
    attrs: { type: "button", "aria-pressed": "false", "data-key": "ctrl" },
  });
  const setCtrl = (on: boolean) => {
    ctrl = on;
    ctrlButton.setAttribute("aria-pressed", String(on));
  };
  const arrow = (dir: Arrow) => {
    if (ctrl) {
      setCtrl(false);
      return `\x1b[1;5${dir}`;
    }
    return options.applicationCursor() ? `\x1bO${dir}` : `\x1b[${dir}`;
  };
  const key = (label: string, name: string, data: () => string, aria?: string) => {
    const b = h("button", {
      class: "key",
      text: label,
      attrs: { type: "button", "data-key": name, "aria-label": aria ?? label },
    });
    b.addEventListener("click", () => {
      if (enabled) options.send(data());
    });
    return b;
  };
  ctrlButton.addEventListener("click", () => {
    if (enabled) setCtrl(!ctrl);
  });
  const el = h(
    "div",
    { class: "extra-keys", attrs: { role: "toolbar", "aria-label": "Extra keys" } },
    key("Esc", "esc", () => "\x1b", "Escape"),
    key("Tab", "tab", () => "\t"),
    ctrlButton,
    key("←", "left", () => arrow("D"), "Left"),
    key("↑", "up", () => arrow("A"), "Up"),
    key("↓", "down", () => arrow("B"), "Down"),
    key("→", "right", () => arrow("C"), "Right"),
  );
  // Keep the focus (and the phone's keyboard) on the terminal.
  el.addEventListener("pointerdown", (ev) => ev.preventDefault());
  el.addEventListener("mousedown", (ev) => ev.preventDefault());
  return {
    el,
    transform(data) {
      if (!ctrl) return data;
      setCtrl(false);
      return ctrlOf(data);
    },
    setEnabled(on) {
      enabled = on;
      if (!on) setCtrl(false);
      el.querySelectorAll("button").forEach((b) => {
        b.disabled = !on;
      });
    },
  };
}
