/**
 * The pairing page, shown when there is no offer in the URL: paste a link (it never leaves this page except to
 * do the handshake with the daemon), or pick a daemon remembered on this device — as an enrolled device (its key,
 * in IndexedDB) or, for daemons remembered from an older bearer link, its offer. Also shows why the last link or
 * device failed (expired, revoked …) with the next step.
 */
import { h } from "../dom.js";
import { forgetDevice, listDevices, type RememberedDevice } from "../device-store.js";
import { explain } from "../errors.js";
import { forget, listRemembered, type RememberedDaemon } from "../offer-source.js";
import { errorBlock } from "./banner.js";

export interface PairOptions {
  /** Why we are here (a bad or expired link), if anything went wrong. */
  error?: unknown;
  onLink: (text: string, remember: boolean) => void;
  onRemembered: (daemon: RememberedDaemon) => void;
  onDevice: (device: RememberedDevice) => void;
  /** The name of a daemon whose (revoked) device key was just forgotten. */
  forgotten?: string;
}

export function createPairPage(options: PairOptions): HTMLElement {
  const link = h("input", {
    attrs: {
      type: "password",
      name: "link",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "https://…/#offer=…",
      "aria-label": "Pairing link",
    },
  });
  const rememberBox = h("input", { attrs: { type: "checkbox", name: "remember" } });
  const form = h(
    "form",
    { class: "pair-form", attrs: { autocomplete: "off" } },
    h("label", { class: "field" }, h("span", { class: "field-label", text: "Pairing link" }), link),
    h("label", { class: "remember" }, rememberBox, " Remember this daemon on this device"),
    h("div", { class: "actions" }, h("button", { class: "primary", text: "Connect", attrs: { type: "submit" } })),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (link.value.trim() !== "") options.onLink(link.value, rememberBox.checked);
  });

  const list = h("ul", { class: "remembered" });
  let devices: RememberedDevice[] = [];
  const deviceRow = (d: RememberedDevice) =>
    h(
      "li",
      { attrs: { "data-server-id": d.serverId, "data-device-id": d.deviceId, "data-rights": d.rights } },
      h(
        "button",
        { class: "remembered-open", attrs: { type: "button" }, on: { click: () => options.onDevice(d) } },
        h("span", { class: "agent-name", text: d.name ?? d.label }),
        d.rights === "read-only" ? h("span", { class: "badge rights-badge", text: "read-only" }) : null,
        h("code", { class: "fingerprint muted", text: d.fingerprint ?? d.serverId }),
      ),
      h("button", {
        class: "ghost small",
        text: "Forget",
        attrs: { type: "button", "aria-label": `Forget ${d.name ?? d.label}` },
        on: {
          click: () => {
            void forgetDevice(d.serverId)
              .catch(() => undefined)
              .then(loadDevices);
          },
        },
      }),
    );
  const loadDevices = () =>
    listDevices().then(
      (all) => {
        devices = all;
        renderList();
      },
      () => undefined, // no IndexedDB here: only links pasted into this tab work
    );
  const renderList = () => {
    list.replaceChildren(
      ...devices.map(deviceRow),
      ...listRemembered().map((d) =>
        h(
          "li",
          { attrs: { "data-server-id": d.serverId } },
          h(
            "button",
            { class: "remembered-open", attrs: { type: "button" }, on: { click: () => options.onRemembered(d) } },
            h("span", { class: "agent-name", text: d.name }),
            h("code", { class: "fingerprint muted", text: d.fingerprint ?? d.serverId }),
          ),
          h("button", {
            class: "ghost small",
            text: "Forget",
            attrs: { type: "button", "aria-label": `Forget ${d.name}` },
            on: {
              click: () => {
                forget(d.serverId);
                renderList();
              },
            },
          }),
        ),
      ),
    );
    section.hidden = list.children.length === 0;
  };
  const section = h("section", { class: "card" }, h("h2", { text: "Remembered daemons" }), list);
  renderList();
  void loadDevices();

  return h(
    "main",
    { class: "pair-page" },
    h("h1", { class: "brand big", text: "paseo" }),
    options.error !== undefined
      ? h(
          "div",
          { class: "banner", attrs: { role: "alert", "data-code": explain(options.error).code } },
          errorBlock(explain(options.error)),
        )
      : null,
    options.forgotten !== undefined
      ? h("p", {
          class: "notice forgotten",
          text: `This browser forgot its key for ${options.forgotten}: a revoked key never works again.`,
        })
      : null,
    h(
      "section",
      { class: "card" },
      // After a failed link the error above already says what to do: the card is then just the place to paste.
      h("h2", { text: options.error !== undefined ? "Open a new link" : "Connect to a daemon" }),
      options.error !== undefined
        ? null
        : h("p", {
            class: "muted",
            text: "On the machine that runs your agents, run `paseo daemon pair` and open the link it prints (or scan its QR code). You can also paste the link here.",
          }),
      form,
    ),
    section,
    h("p", {
      class: "muted small footnote",
      text: "End-to-end encrypted: the relay serving this page only sees ciphertext. The link's secret stays in this tab unless you choose to remember the daemon.",
    }),
  );
}
