/**
 * The browser's remembered daemons as an enrolled device (issue 16): one IndexedDB record per daemon, keyed by
 * serverId, holding this browser's device key for that daemon — never the link that enrolled it (a ticket is spent
 * once used; keeping it would only leak a dead secret).
 *
 * Why a raw key and not a non-extractable CryptoKey: WebCrypto can keep an X25519 private key non-extractable (where
 * the browser implements X25519 at all), but then the only operation left is `deriveBits`, asynchronous and outside
 * the Noise code. The handshake (src/protocol/noise) takes raw 32-byte keys through the synchronous CryptoBackend
 * (`dh()`), shared with Node and vector-tested on both backends; driving it from WebCrypto would mean a second,
 * hand-written Noise. So the key is stored as raw bytes (base64url), readable by script on this origin — the same
 * exposure as the bearer offer the app remembered before, and it is revocable per device (`paseo daemon devices
 * revoke <id>`). IndexedDB (not localStorage) so it is not serialised into a string store a page script might dump.
 *
 * Every call is async and rejects with StorageUnavailableError when the browser refuses IndexedDB (private mode,
 * blocked storage): the app then works for this tab only and says so.
 */
import { PaseoError, type RelayEndpoint } from "../index.js";
import type { DeviceRights } from "../protocol/device.js";

export interface RememberedDevice {
  serverId: string;
  daemonPublicKeyB64: string;
  relay: RelayEndpoint;
  /** base64url of this device's 32-byte X25519 private key. */
  deviceKeyB64: string;
  deviceId: string;
  rights: DeviceRights;
  /** The device's label on the daemon (the ticket's label or `device <id prefix>`). */
  label: string;
  /** The code shown at enrollment, "123-456" (kept so the user can compare again later). */
  sas: string;
  enrolledAt: string;
  /** The daemon's host name and fingerprint from its last welcome, for the list. */
  name?: string;
  fingerprint?: string;
}

export class StorageUnavailableError extends PaseoError {
  constructor(why: string) {
    super(
      "STORAGE_UNAVAILABLE",
      `this browser does not allow storing the device key (${why}); it works for this tab only`,
    );
  }
}

const DB_NAME = "paseo";
const DB_VERSION = 1;
const STORE = "devices";

let opening: Promise<IDBDatabase> | undefined;

function db(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    let req: IDBOpenDBRequest;
    try {
      if (typeof indexedDB === "undefined") throw new Error("no IndexedDB");
      req = indexedDB.open(DB_NAME, DB_VERSION);
    } catch (err) {
      reject(new StorageUnavailableError((err as Error).message));
      return;
    }
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: "serverId" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new StorageUnavailableError(req.error?.message ?? "open failed"));
    req.onblocked = () => reject(new StorageUnavailableError("the database is blocked by another tab"));
  });
  // A failed open is not cached: storage may be allowed on the next try.
  opening.catch(() => (opening = undefined));
  return opening;
}

function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return db().then(
    (d) =>
      new Promise<T>((resolve, reject) => {
        let result: T;
        let tx: IDBTransaction;
        try {
          tx = d.transaction(STORE, mode);
          const req = fn(tx.objectStore(STORE));
          req.onsuccess = () => (result = req.result);
        } catch (err) {
          reject(new StorageUnavailableError((err as Error).message));
          return;
        }
        // Resolve on commit, not on the request: a write is only durable once its transaction completes.
        tx.oncomplete = () => resolve(result);
        tx.onabort = tx.onerror = () => reject(new StorageUnavailableError(tx.error?.message ?? "transaction failed"));
      }),
  );
}

function isDevice(d: unknown): d is RememberedDevice {
  if (typeof d !== "object" || d === null) return false;
  const r = d as Record<string, unknown>;
  return (
    typeof r.serverId === "string" &&
    typeof r.daemonPublicKeyB64 === "string" &&
    typeof r.deviceKeyB64 === "string" &&
    typeof r.deviceId === "string" &&
    (r.rights === "control" || r.rights === "read-only") &&
    typeof r.relay === "object" &&
    r.relay !== null
  );
}

/** Every remembered daemon, most recently enrolled first (malformed records are skipped, not fatal). */
export async function listDevices(): Promise<RememberedDevice[]> {
  const all = await run("readonly", (s) => s.getAll() as IDBRequest<unknown[]>);
  return all.filter(isDevice).sort((a, b) => b.enrolledAt.localeCompare(a.enrolledAt));
}

export async function getDevice(serverId: string): Promise<RememberedDevice | undefined> {
  const d = await run("readonly", (s) => s.get(serverId) as IDBRequest<unknown>);
  return isDevice(d) ? d : undefined;
}

/** Store (or replace) the device for its daemon. */
export async function saveDevice(device: RememberedDevice): Promise<void> {
  await run("readwrite", (s) => s.put(device));
}

/** Update fields of a stored device (name, fingerprint, rights); a no-op when it is not stored. */
export async function updateDevice(
  serverId: string,
  patch: Partial<Omit<RememberedDevice, "serverId">>,
): Promise<void> {
  const d = await getDevice(serverId);
  if (d) await saveDevice({ ...d, ...patch });
}

export async function forgetDevice(serverId: string): Promise<void> {
  await run("readwrite", (s) => s.delete(serverId));
}
