/**
 * Files a running daemon keeps under PASEO_HOME:
 *   daemon.pid        — the lock: one daemon per home (O_EXCL create; a stale file from a dead pid is replaced)
 *   daemon-status.json — what `paseo daemon status` shows: relay path state, local endpoint, updated on change
 *   local-offer.json  — the offer for the loopback server (0600: only this user can drive the local daemon)
 */
import type { RelayEndpoint } from "../protocol/relay-url.js";
import { constants as fsConstants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { PaseoError } from "../protocol/errors.js";
import { parseOffer, type Offer } from "../protocol/offer.js";
import { isProcessAlive, writeFileAtomic } from "./home.js";
import { assertSafeFile, assertSafeHome } from "./home-safety.js";
import type { RelayLinkStatus } from "./relay-link.js";

export const PID_FILE = "daemon.pid";
export const STATUS_FILE = "daemon-status.json";
export const LOCAL_OFFER_FILE = "local-offer.json";

export class DaemonLockError extends PaseoError {
  constructor(message: string) {
    super("DAEMON_RUNNING", message);
  }
}

export async function readPid(home: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await fs.readFile(join(home, PID_FILE), "utf8")).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Take the per-home daemon lock or explain who holds it. Returns the release function. */
export async function acquireDaemonLock(home: string): Promise<() => Promise<void>> {
  const path = join(home, PID_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        if ((await readPid(home)) === process.pid) await fs.rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = await readPid(home);
      if (pid !== undefined && pid !== process.pid && isProcessAlive(pid)) {
        throw new DaemonLockError(
          `a paseo daemon (pid ${pid}) is already running with home ${home}; stop it with \`paseo daemon stop\``,
        );
      }
      await fs.rm(path, { force: true }); // stale: its process is gone
    }
  }
  throw new DaemonLockError(`could not take the daemon lock ${path}; remove it if no daemon is running`);
}

export interface DaemonStatusFile {
  pid: number;
  startedAt: string;
  updatedAt: string;
  serverId: string;
  fingerprint: string;
  local: { url: string } | null;
  /**
   * The embedded relay, if any. `listen`/`advertised` only when it is on the LAN (`--relay-host`): where it listens
   * (the daemon's link still uses loopback) and the endpoint links name.
   */
  embeddedRelay: { url: string; listen?: string; advertised?: RelayEndpoint } | null;
  relay: RelayLinkStatus | null;
  agents: { running: number; total: number };
  /** The input kill switch as the daemon applies it (input.json). */
  input?: { enabled: boolean; changedAt: string | null };
  /** The audit log; `failure` is set while writes fail (disk full): the daemon serves on without recording. */
  audit?: { path: string; failure: { at: string; message: string } | null };
}

export async function writeStatus(home: string, status: DaemonStatusFile): Promise<void> {
  await writeFileAtomic(join(home, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`, 0o600);
}

export async function readStatus(home: string): Promise<DaemonStatusFile | undefined> {
  try {
    return JSON.parse(await fs.readFile(join(home, STATUS_FILE), "utf8")) as DaemonStatusFile;
  } catch {
    return undefined;
  }
}

export async function writeLocalOffer(home: string, offer: Offer): Promise<void> {
  await writeFileAtomic(join(home, LOCAL_OFFER_FILE), `${JSON.stringify(offer)}\n`, 0o600);
}

/** The local daemon's offer, or undefined when no daemon has written one. */
export async function readLocalOffer(home: string): Promise<Offer | undefined> {
  const path = join(home, LOCAL_OFFER_FILE);
  // It names the daemon a client will trust with its commands: refuse one from a home or file another user controls.
  await assertSafeHome(home);
  let handle: FileHandle;
  try {
    handle = await fs.open(path, "r");
  } catch {
    return undefined;
  }
  let text: string;
  try {
    assertSafeFile(path, await handle.stat());
    text = await handle.readFile("utf8");
  } finally {
    await handle.close().catch(() => undefined);
  }
  return parseOffer(text, { source: LOCAL_OFFER_FILE });
}

export async function removeRuntimeFiles(home: string): Promise<void> {
  await fs.rm(join(home, LOCAL_OFFER_FILE), { force: true });
}
