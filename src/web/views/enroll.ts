/**
 * The enroll offer (issue 16): what a v4 link (an enrollment ticket) opens to. Nothing connects until the user taps
 * "Enroll this device" — chat link previewers and mail scanners open links in headless browsers, and a single-use
 * ticket spent by one of them would be gone for its owner. The page shows who the ticket is for (the daemon's key
 * fingerprint, to compare with `paseo daemon pair` on that machine), what this browser will be called there, and
 * whether to remember the daemon (this browser's device key, never the link).
 */
import type { Offer } from "../../index.js";
import { h } from "../dom.js";

export interface EnrollOfferOptions {
  offer: Offer;
  /** The device's label on the daemon: the ticket's label, else `device <id prefix>`. */
  label: string;
  deviceId: string;
  /** Fingerprint of the daemon's key (from the link itself: nothing was asked of the network). */
  fingerprint: string;
  /** This browser already has a device for this daemon: connect with it instead of spending the ticket. */
  existing?: { deviceId: string; name: string };
  onEnroll: (remember: boolean) => void;
  onUseExisting: () => void;
  onCancel: () => void;
}

function expiry(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "does not expire";
  const min = Math.round((Date.parse(iso) - now) / 60_000);
  if (min <= 0) return "expires in less than a minute";
  if (min < 120) return `expires in ${min} min`;
  return `expires ${new Date(iso).toLocaleString()}`;
}

export function createEnrollOffer(options: EnrollOfferOptions): HTMLElement {
  const { offer } = options;
  const rememberBox = h("input", { attrs: { type: "checkbox", name: "remember" } });
  // Checked by default: an enrolled device that forgets its key is a dead entry on the daemon. Untick on a shared
  // computer (the key then lives in this tab only).
  rememberBox.checked = true;
  const enroll = h("button", {
    class: "primary",
    text: "Enroll this device",
    attrs: { type: "button", "data-action": "enroll" },
  });
  let tapped = false;
  enroll.addEventListener("click", () => {
    if (tapped) return; // one ticket use per tap, even on a double tap
    tapped = true;
    enroll.disabled = true;
    options.onEnroll(rememberBox.checked);
  });

  const existing = options.existing
    ? h(
        "div",
        { class: "notice existing-device" },
        h("p", {
          text: `This browser is already enrolled on this daemon as ${options.existing.deviceId}. Connect with it and keep the link for another device, or enroll again (a new key replaces the old one here).`,
        }),
        h("button", {
          class: "primary",
          text: `Connect as ${options.existing.deviceId}`,
          attrs: { type: "button", "data-action": "use-existing" },
          on: { click: options.onUseExisting },
        }),
      )
    : null;

  return h(
    "main",
    { class: "pair-page enroll-page", attrs: { "data-server-id": offer.serverId } },
    h("h1", { class: "brand big", text: "paseo" }),
    existing,
    h(
      "section",
      { class: "card enroll", attrs: { "aria-label": "Enroll this device" } },
      h("h2", { class: "enroll-title", text: `Enroll this device as ${options.label}` }),
      h("p", {
        class: "muted",
        text: "This link gives this browser its own key for the daemon below. Nothing has been sent yet: enrolling uses the link (a single-use link works only once), and afterwards this browser connects with its key — no link needed.",
      }),
      h(
        "dl",
        { class: "facts" },
        h("dt", { text: "Daemon fingerprint" }),
        h(
          "dd",
          {},
          h("code", { class: "fingerprint", text: options.fingerprint }),
          h("span", { class: "muted small hint", text: "compare with `paseo daemon pair` on the daemon machine" }),
        ),
        h("dt", { text: "Server id" }),
        h("dd", {}, h("code", { class: "server-id", text: offer.serverId })),
        h("dt", { text: "This device" }),
        h("dd", {}, h("code", { class: "device-id", text: options.deviceId })),
        h("dt", { text: "Link" }),
        h("dd", { class: "expiry", text: expiry(offer.expiresAt) }),
      ),
      h(
        "label",
        { class: "remember" },
        rememberBox,
        " Remember this daemon on this device (keeps this browser's key, not the link)",
      ),
      h(
        "div",
        { class: "actions" },
        enroll,
        h("button", {
          class: "ghost",
          text: "Not now",
          attrs: { type: "button", "data-action": "cancel" },
          on: { click: options.onCancel },
        }),
      ),
    ),
    h("p", {
      class: "muted small footnote",
      text: "End-to-end encrypted: the relay serving this page only sees ciphertext. After enrolling, compare the code this page shows with `paseo daemon devices` on the daemon.",
    }),
  );
}
