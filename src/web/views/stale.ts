/**
 * The "not live" notice: shown while the connection is down after having been up. Everything on screen is then the
 * last known state, so the notice says from when, and that actions wait for the connection to come back.
 */
import { h, flag, setText } from "../dom.js";

export interface StaleNotice {
  el: HTMLElement;
  show(asOf: Date): void;
  hide(): void;
}

function clock(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function createStaleNotice(): StaleNotice {
  const text = h("span");
  const el = h("p", { class: "stale-notice", attrs: { role: "status", hidden: true } }, text);
  return {
    el,
    show(asOf) {
      setText(
        text,
        `Not connected — showing the last known state (as of ${clock(asOf)}). Actions are disabled until the connection is back.`,
      );
      flag(el, "hidden", false);
    },
    hide() {
      flag(el, "hidden", true);
    },
  };
}
