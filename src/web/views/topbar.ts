/**
 * The top bar: app name, the daemon's host name, a "read-only" badge for a read-only device, the connection state,
 * and a way back to the pairing page.
 */
import type { ConnectionState } from "../../index.js";
import { flag, h, setText } from "../dom.js";
import { STATE_LABEL } from "../format.js";

export interface Topbar {
  el: HTMLElement;
  setState(state: ConnectionState): void;
  setHost(name: string): void;
  setReadOnly(readOnly: boolean): void;
}

export function createTopbar(options: { onSwitch: () => void }): Topbar {
  const host = h("span", { class: "host", text: "" });
  const state = h(
    "span",
    { class: "state", attrs: { "data-state": "connecting", role: "status", "aria-live": "polite" } },
    STATE_LABEL.connecting,
  );
  const readOnly = h("span", {
    class: "badge rights-badge",
    text: "read-only",
    attrs: { "data-rights": "read-only", hidden: true, title: "This device may watch, not change anything" },
  });
  const el = h(
    "header",
    { class: "topbar" },
    h("span", { class: "brand", text: "paseo" }),
    host,
    readOnly,
    h("span", { class: "spacer" }),
    state,
    h(
      "button",
      {
        class: "ghost small switch",
        attrs: { type: "button", title: "Leave this daemon and go to the pairing page", "data-action": "switch" },
        on: { click: options.onSwitch },
      },
      h("span", { class: "wide-only", text: "Switch daemon" }),
      h("span", { class: "narrow-only", text: "Switch" }),
    ),
  );
  return {
    el,
    setState(s) {
      state.setAttribute("data-state", s);
      setText(state, STATE_LABEL[s]);
    },
    setHost(name) {
      setText(host, name);
    },
    setReadOnly(on) {
      flag(readOnly, "hidden", !on);
    },
  };
}
