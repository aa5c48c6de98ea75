/**
 * Where the app's pairing offer comes from: the URL fragment (`#offer=…`, never sent to any server), a pasted link,
 * or — only if the user ticked "remember this daemon" — the browser's localStorage. The fragment is removed from
 * the address bar (and from history) as soon as it has been read.
 */
import { encodeOffer, parseOffer, type Offer } from "../index.js";

const FRAGMENT = "#offer=";
const STORAGE_KEY = "paseo.daemons.v1";

/**
 * Take the offer text out of the current URL, then replace the history entry with the same URL minus the
 * fragment. Returns the raw link text (parse it with parseOffer) or undefined when there is none.
 */
export function takeOfferFromLocation(loc: Location = location, hist: History = history): string | undefined {
  if (!loc.hash.startsWith(FRAGMENT)) return undefined;
  const text = `${FRAGMENT}${loc.hash.slice(FRAGMENT.length)}`;
  hist.replaceState(null, "", `${loc.pathname}${loc.search}`);
  return text;
}

export interface RememberedDaemon {
  serverId: string;
  /** Shown in the list: the daemon's host name (from its welcome), else the offer's label. */
  name: string;
  fingerprint?: string;
  /** base64url offer, as in a link's fragment. */
  offer: string;
  savedAt: string;
}

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled (private mode, blocked cookies)
  }
}

export function listRemembered(): RememberedDaemon[] {
  const raw = storage()?.getItem(STORAGE_KEY);
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter(
      (d): d is RememberedDaemon =>
        typeof d === "object" &&
        d !== null &&
        typeof d.serverId === "string" &&
        typeof d.offer === "string" &&
        typeof d.name === "string",
    );
  } catch {
    return [];
  }
}

function save(list: RememberedDaemon[]): boolean {
  const s = storage();
  if (!s) return false;
  try {
    if (list.length === 0) s.removeItem(STORAGE_KEY);
    else s.setItem(STORAGE_KEY, JSON.stringify(list));
    return true;
  } catch {
    return false;
  }
}

export function isRemembered(serverId: string): boolean {
  return listRemembered().some((d) => d.serverId === serverId);
}

/** Store (or refresh) a daemon's offer. Returns false when the browser refuses storage. */
export function remember(offer: Offer, details: { name?: string; fingerprint?: string } = {}): boolean {
  const list = listRemembered().filter((d) => d.serverId !== offer.serverId);
  list.push({
    serverId: offer.serverId,
    name: details.name ?? offer.label ?? offer.serverId.slice(0, 8),
    ...(details.fingerprint ? { fingerprint: details.fingerprint } : {}),
    offer: encodeOffer(offer),
    savedAt: new Date().toISOString(),
  });
  return save(list);
}

export function forget(serverId: string): void {
  save(listRemembered().filter((d) => d.serverId !== serverId));
}

/** Parse a remembered entry (throws the usual OfferError family, e.g. OfferExpiredError). */
export function rememberedOffer(d: RememberedDaemon): Offer {
  return parseOffer(d.offer);
}
