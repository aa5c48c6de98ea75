/**
 * paseo browser app — boot (bundled by scripts/build-web.js into dist/web/app.js). Reads the pairing offer from the
 * URL fragment (which browsers never send to a server) and removes it from the address bar at once. Then:
 *
 *   v3 link (a bearer offer)      connect at once, as always;
 *   v4 link (an enrollment ticket) show "Enroll this device as …" — nothing is sent until the user taps Enroll
 *                                  (link previewers and mail scanners open links too: they must not spend it);
 *   no link                        the pairing page with the remembered daemons; with exactly one remembered
 *                                  device, connect as it at once (a device key is not spent by connecting).
 */
import { parseOffer, type Offer } from "../index.js";
import { nobleBackend } from "../protocol/crypto/noble.js";
import { fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { keyFingerprint } from "../protocol/server-id.js";
import { replace } from "./dom.js";
import { openDaemonScreen, type DaemonScreen } from "./controller.js";
import { deviceIdOf } from "../protocol/device.js";
import { forgetDevice, getDevice, listDevices, type RememberedDevice } from "./device-store.js";
import { listRemembered, rememberedOffer, takeOfferFromLocation, type RememberedDaemon } from "./offer-source.js";
import { watchRelayBlocked } from "./origin-guard.js";
import { relayOf, serverIdOf, type Target } from "./target.js";
import { createEnrollOffer } from "./views/enroll.js";
import { createPairPage } from "./views/pair.js";

let screen: DaemonScreen | undefined;
let unwatchRelay: (() => void) | undefined;
/** Bumped on every page change, so an async step (reading IndexedDB) never draws over a newer page. */
let page = 0;

function root(): HTMLElement {
  const el = document.getElementById("app");
  if (!el) throw new Error("index.html has no #app element");
  return el;
}

function leave(): number {
  unwatchRelay?.();
  unwatchRelay = undefined;
  screen?.dispose();
  screen = undefined;
  document.title = "paseo";
  return ++page;
}

function showPair(error?: unknown, forgotten?: string): void {
  leave();
  replace(
    root(),
    createPairPage({
      error,
      forgotten,
      onLink: (text, remember) => openOffer(text, remember),
      onRemembered: (d: RememberedDaemon) => {
        let offer: Offer;
        try {
          offer = rememberedOffer(d);
        } catch (err) {
          return showPair(err);
        }
        connect({ kind: "offer", offer }, true);
      },
      onDevice: (device) => connect({ kind: "device", device }),
    }),
  );
}

function connect(target: Target, remember = false): void {
  leave();
  // A credential that cannot work (revoked, expired, wrong secret …) gets one page saying why, not a dead dashboard.
  try {
    screen = openDaemonScreen(target, { remember, onLeave: () => showPair(), onFatal: (err) => fatal(target, err) });
  } catch (err) {
    // The client refused the credential outright (e.g. a stored record this version cannot use): say why.
    return showPair(err);
  }
  replace(root(), screen.el);
  unwatchRelay = watchRelayBlocked(relayOf(target), (err) => showPair(err)); // this page's CSP forbids that relay
}

/**
 * A revoked device key is refused for good (the daemon never re-enrolls it): forget it here, so the next visit does
 * not try it again, and say so. That is a remembered device's key, or the one this screen just enrolled (and stored)
 * — only if the stored record still holds that very key. An unknown one is kept (listed, with Forget): the user decides.
 */
function fatal(target: Target, err: unknown): void {
  const code = (err as { code?: unknown }).code;
  const key =
    target.kind === "device" ? target.device.deviceKeyB64 : target.kind === "enroll" ? target.deviceKeyB64 : undefined;
  if (key === undefined || code !== "DEVICE_REVOKED") return showPair(err);
  const serverId = serverIdOf(target);
  const mine = leave();
  void getDevice(serverId)
    .then(async (stored) => {
      if (stored?.deviceKeyB64 !== key) return undefined;
      await forgetDevice(serverId);
      return stored.name ?? stored.label;
    })
    .catch(() => undefined)
    .then((forgotten) => {
      if (mine === page) showPair(err, forgotten);
    });
}

/** The enroll offer for a v4 ticket: this browser's key is made now (locally), the ticket is spent only on a tap. */
async function showEnrollOffer(offer: Offer): Promise<void> {
  const mine = leave();
  const pair = nobleBackend.generateKeyPair();
  const deviceId = deviceIdOf(nobleBackend, pair.publicKey);
  const daemonKey = fromBase64Url(offer.daemonPublicKeyB64)!; // parseOffer checked it
  const existing = await getDevice(offer.serverId).catch(() => undefined);
  if (mine !== page) return;
  document.title = "paseo — enroll this device";
  replace(
    root(),
    createEnrollOffer({
      offer,
      label: offer.label ?? `device ${deviceId.slice(0, 8)}`,
      deviceId,
      fingerprint: keyFingerprint(nobleBackend, daemonKey),
      existing: existing && { deviceId: existing.deviceId, name: existing.name ?? existing.label },
      onEnroll: (remember) => connect({ kind: "enroll", offer, deviceKeyB64: toBase64Url(pair.secretKey), remember }),
      onUseExisting: () => existing && connect({ kind: "device", device: existing }),
      onCancel: () => showPair(),
    }),
  );
}

/** Parse (strictly, with the expiry check); a ticket gets the enroll offer, a bearer link connects. */
function openOffer(text: string, remember: boolean): void {
  let offer: Offer;
  try {
    offer = parseOffer(text);
  } catch (err) {
    return showPair(err);
  }
  if (offer.v === 4) void showEnrollOffer(offer);
  else connect({ kind: "offer", offer }, remember);
}

/** No link: one remembered device connects at once; otherwise the pairing page lists what there is. */
async function openRemembered(): Promise<void> {
  const mine = page;
  const devices: RememberedDevice[] = await listDevices().catch(() => []);
  if (mine !== page) return;
  if (devices.length === 1 && listRemembered().length === 0) connect({ kind: "device", device: devices[0]! });
}

function boot(): void {
  const text = takeOfferFromLocation();
  if (text !== undefined) openOffer(text, false);
  else {
    showPair();
    void openRemembered();
  }
  // A link pasted into the address bar of an open tab only changes the fragment: pick it up the same way.
  window.addEventListener("hashchange", () => {
    const next = takeOfferFromLocation();
    if (next !== undefined) openOffer(next, false);
  });
}

boot();
