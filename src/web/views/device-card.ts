/**
 * "This device" (issue 16): the browser's identity on the daemon when it connects as an enrolled device — its
 * device id, its rights and the short authentication string (SAS) of its enrollment. Right after enrolling the card
 * asks the user to compare the code with `paseo daemon devices` on the daemon: the same code on both ends means no
 * one sat in the middle with a copied link.
 */
import { flag, h, setText } from "../dom.js";

export interface DeviceFacts {
  deviceId: string;
  rights: "control" | "read-only";
  /** "123-456"; unknown for a device remembered before this card existed. */
  sas?: string;
  label?: string;
}

export interface DeviceCard {
  el: HTMLElement;
  show(facts: DeviceFacts, justEnrolled: boolean): void;
}

const RIGHTS_TEXT = {
  control: "control — may run, stop and type",
  "read-only": "read-only — may watch, never change anything",
} as const;

export function createDeviceCard(): DeviceCard {
  const headline = h("h2", { text: "This device" });
  const compare = h("p", { class: "sas-compare" });
  const deviceId = h("code", { class: "device-id" });
  const label = h("span", { class: "device-label" });
  const rights = h("span", { class: "badge rights-badge" });
  const rightsText = h("span", { class: "muted small" });
  const sas = h("code", { class: "sas" });
  const sasRow = [h("dt", { text: "Enrollment code" }), h("dd", {}, sas)];
  const el = h(
    "section",
    { class: "card device", attrs: { "aria-label": "This device", hidden: true } },
    headline,
    compare,
    h(
      "dl",
      { class: "facts" },
      h("dt", { text: "Device" }),
      h("dd", {}, deviceId, " ", label),
      h("dt", { text: "Rights" }),
      h("dd", {}, rights, " ", rightsText),
      ...sasRow,
    ),
  );
  return {
    el,
    show(f, justEnrolled) {
      flag(el, "hidden", false);
      el.setAttribute("data-rights", f.rights);
      flag(el, "data-just-enrolled", justEnrolled);
      setText(headline, justEnrolled ? "This device is enrolled" : "This device");
      setText(deviceId, f.deviceId);
      setText(label, f.label ? `(${f.label})` : "");
      setText(rights, f.rights);
      rights.setAttribute("data-rights", f.rights);
      setText(rightsText, RIGHTS_TEXT[f.rights]);
      setText(sas, f.sas ?? "–");
      for (const n of sasRow) flag(n, "hidden", f.sas === undefined);
      flag(compare, "hidden", !justEnrolled || f.sas === undefined);
      if (justEnrolled && f.sas !== undefined)
        setText(
          compare,
          `Compare the code ${f.sas} with \`paseo daemon devices\` on the daemon machine: it must be the same there.`,
        );
    },
  };
}
