/**
 * paseo browser app — boot (bundled by scripts/build-web.js into dist/web/app.js). Reads the pairing offer from the URL fragment (which browsers never send to a server),
 * removes it from the address bar at once, and opens the daemon screen with the same DaemonClient the CLI uses.
 * Without an offer it shows the pairing page (paste a link, or a daemon remembered on this device).
 */
import { parseOffer, type Offer } from "../index.js";
import { replace } from "./dom.js";
import { openDaemonScreen, type DaemonScreen } from "./controller.js";
import { rememberedOffer, takeOfferFromLocation, type RememberedDaemon } from "./offer-source.js";
import { createPairPage } from "./views/pair.js";
import { watchRelayBlocked } from "./origin-guard.js";

let screen: DaemonScreen | undefined;
let unwatchRelay: (() => void) | undefined;

function root(): HTMLElement {
  const el = document.getElementById("app");
  if (!el) throw new Error("index.html has no #app element");
  return el;
}

function leave(): void {
  unwatchRelay?.();
  unwatchRelay = undefined;
  screen?.dispose();
  screen = undefined;
  document.title = "paseo";
}

function showPair(error?: unknown): void {
  leave();
  replace(
    root(),
    createPairPage({
      error,
      onLink: (text, remember) => openOffer(text, remember),
      onRemembered: (d: RememberedDaemon) => {
        let offer: Offer;
        try {
          offer = rememberedOffer(d);
        } catch (err) {
          return showPair(err);
        }
        connect(offer, true);
      },
    }),
  );
}

function connect(offer: Offer, remember: boolean): void {
  leave();
  // A link that cannot work (revoked, expired, wrong secret …) gets one page saying why, not a dead dashboard.
  screen = openDaemonScreen(offer, { remember, onLeave: () => showPair(), onFatal: (err) => showPair(err) });
  replace(root(), screen.el);
  unwatchRelay = watchRelayBlocked(offer, (err) => showPair(err)); // this page's CSP forbids that relay: say so
}

/** Parse (strictly, with the expiry check) and connect; a bad or expired link shows the pairing page with why. */
function openOffer(text: string, remember: boolean): void {
  let offer: Offer;
  try {
    offer = parseOffer(text);
  } catch (err) {
    return showPair(err);
  }
  connect(offer, remember);
}

function boot(): void {
  const text = takeOfferFromLocation();
  if (text !== undefined) openOffer(text, false);
  else showPair();
  // A link pasted into the address bar of an open tab only changes the fragment: pick it up the same way.
  window.addEventListener("hashchange", () => {
    const next = takeOfferFromLocation();
    if (next !== undefined) openOffer(next, false);
  });
}

boot();
