/**
 * Standing notices about what this session may do (issue 16): a read-only device ("read-only: watch only") and the
 * daemon's input kill switch ("input is turned off"). Unlike the error banner these are not failures: they stay as
 * long as the condition does.
 */
import { flag, h } from "../dom.js";

export interface AccessNotice {
  el: HTMLElement;
  set(readOnly: boolean, inputOff: boolean): void;
}

export function createAccessNotice(): AccessNotice {
  const readOnly = h(
    "p",
    { class: "notice read-only-notice", attrs: { role: "status", hidden: true, "data-notice": "read-only" } },
    h("strong", { text: "read-only" }),
    " — this device may watch agents and their output, but not run, stop or type. The daemon's owner can change that with `paseo daemon devices set <id> --control`.",
  );
  const inputOff = h(
    "p",
    { class: "notice input-off", attrs: { role: "alert", hidden: true, "data-notice": "input-off" } },
    h("strong", { text: "Input is turned off on the daemon" }),
    " — no device can type into agents or terminals until it is turned on again (`paseo daemon input on` on the daemon machine).",
  );
  const el = h("div", { class: "access-notices" }, readOnly, inputOff);
  return {
    el,
    set(ro, off) {
      flag(readOnly, "hidden", !ro);
      flag(inputOff, "hidden", !off);
    },
  };
}
