/**
 * PASEO_HOME: the directory holding the daemon's identity, offers and config (default ~/.paseo, mode 0700).
 *
 * - resolveHome(): --home argument > $PASEO_HOME > ~/.paseo
 * - writeFileAtomic(): temp file in the same directory + fsync + rename (+ directory fsync), mode 0600
 * - readJsonFile(): undefined when missing, clear HomeError when unreadable, not JSON, or unsafe (home-safety.ts)
 * - withFileLock(): a small cross-process lock (O_EXCL lock file, short retry, stale-lock detection by pid) for
 *   read-modify-write of small JSON files
 * - loadConfig()/saveConfig(): <home>/config.json — relay endpoint and public URL for links
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants, promises as fs } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { RelayEndpoint } from "../protocol/relay-url.js";
import { PaseoError, errnoCode } from "../protocol/errors.js";
import { isValidRelayEndpoint } from "../protocol/offer.js";
import { assertSafeFile, assertSafeHome } from "./home-safety.js";

/** The relay embedded in the daemon, on loopback: used when neither --relay nor config.json names one. */
export const DEFAULT_EMBEDDED_RELAY: RelayEndpoint = { endpoint: "127.0.0.1:7431", tls: false };
export const CONFIG_FILE = "config.json";
export const HOME_DIR_MODE = 0o700;
export const SECRET_FILE_MODE = 0o600;

export type HomeErrorCode =
  | "HOME_INVALID"
  | "HOME_UNSAFE"
  | "FILE_UNSAFE"
  | "FILE_UNREADABLE"
  | "FILE_CORRUPT"
  | "FILE_WRITE_FAILED"
  | "LOCK_TIMEOUT"
  | "CONFIG_INVALID";

export class HomeError extends PaseoError {
  declare readonly code: HomeErrorCode;
  constructor(code: HomeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** PASEO_HOME as an absolute path: `arg` (the --home flag) > env.PASEO_HOME > ~/.paseo. "~/" is expanded. */
export function resolveHome(arg?: string, env: Record<string, string | undefined> = process.env): string {
  const chosen =
    arg !== undefined && arg !== ""
      ? arg
      : env.PASEO_HOME !== undefined && env.PASEO_HOME !== ""
        ? env.PASEO_HOME
        : undefined;
  if (chosen === undefined) return join(homedir(), ".paseo");
  if (chosen === "~") return homedir();
  if (chosen.startsWith("~/")) return join(homedir(), chosen.slice(2));
  return resolve(chosen);
}

/** Create the home directory (and parents) with mode 0700 if needed. Refuses an unsafe existing one (assertSafeHome). */
export async function ensureHome(home: string): Promise<string> {
  let created: string | undefined;
  try {
    created = await fs.mkdir(home, { recursive: true, mode: HOME_DIR_MODE });
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EEXIST" || code === "ENOTDIR") {
      throw new HomeError(
        "HOME_INVALID",
        `paseo home ${home} exists but is not a directory (set --home or PASEO_HOME to a directory)`,
      );
    }
    throw new HomeError("HOME_INVALID", `cannot create paseo home ${home}: ${code ?? String(err)}`, { cause: err });
  }
  if (created !== undefined) {
    // mkdir's mode is filtered by the umask; make the home itself exactly 0700.
    await fs.chmod(home, HOME_DIR_MODE);
  } else {
    const st = await fs.stat(home);
    if (!st.isDirectory()) throw new HomeError("HOME_INVALID", `paseo home ${home} exists but is not a directory`);
  }
  await assertSafeHome(home); // a new home can still sit in a directory another user may rename
  return home;
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch {
    // Not supported everywhere (e.g. some network file systems); the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Write `data` to `path` atomically: a temp file in the same directory (created O_EXCL with `mode`), fsync, rename
 * over `path`, fsync the directory. Readers see the old or the new content, never a mix; no temp file is left
 * behind on failure.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number = SECRET_FILE_MODE,
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    await handle.chmod(mode); // the create mode is filtered by the umask
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    const code = errnoCode(err);
    throw new HomeError(
      "FILE_WRITE_FAILED",
      `cannot write ${path}: ${code ?? (err instanceof Error ? err.message : String(err))}`,
      {
        cause: err,
      },
    );
  }
  await fsyncDir(dir);
}

/**
 * Read and parse a JSON file of the home. Returns undefined when it does not exist; HomeError when unreadable, not
 * JSON, or owned / writable by another user (FILE_UNSAFE).
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, "r");
    // Checked on the open handle: what we check is what we read (a swap after the check changes nothing).
    assertSafeFile(path, await handle.stat());
    text = await handle.readFile("utf8");
  } catch (err) {
    if (err instanceof HomeError) throw err;
    const code = errnoCode(err);
    if (code === "ENOENT") return undefined;
    const why =
      code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "EISDIR"
          ? "it is a directory"
          : (code ?? String(err));
    throw new HomeError("FILE_UNREADABLE", `cannot read ${path}: ${why}`, { cause: err });
  } finally {
    await handle?.close().catch(() => undefined);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HomeError("FILE_CORRUPT", `${path} is not valid JSON (${text.length} bytes)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-process lock

export interface LockOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** A lock file older than this is stale whatever its owner (default 10 s; locks are held for milliseconds). */
  staleMs?: number;
}

const inProcessLocks = new Map<string, Promise<void>>();

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Does a process with this pid exist (EPERM: it does, owned by someone else)? */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === "EPERM"; // exists, owned by someone else
  }
}

async function tryAcquire(lockPath: string, staleMs: number): Promise<{ ok: true } | { ok: false; owner?: number }> {
  try {
    const handle = await fs.open(
      lockPath,
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL,
      SECRET_FILE_MODE,
    );
    try {
      await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
    } finally {
      await handle.close();
    }
    return { ok: true };
  } catch (err) {
    if (errnoCode(err) !== "EEXIST") {
      throw new HomeError(
        "FILE_WRITE_FAILED",
        `cannot create lock file ${lockPath}: ${errnoCode(err) ?? String(err)}`,
        { cause: err },
      );
    }
  }
  // Someone holds it: is the holder still alive?
  let content = "";
  let mtimeMs = Date.now();
  try {
    content = await fs.readFile(lockPath, "utf8");
    mtimeMs = (await fs.stat(lockPath)).mtimeMs;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return { ok: false }; // released meanwhile: retry at once
  }
  let owner: number | undefined;
  try {
    const pid = (JSON.parse(content) as { pid?: unknown }).pid;
    if (typeof pid === "number" && Number.isInteger(pid) && pid > 0) owner = pid;
  } catch {
    // empty or partial: the owner crashed between create and write, or is writing right now
  }
  // Locks are held for milliseconds (one small read-modify-write): a dead owner, or any lock older than staleMs
  // (e.g. its pid was reused by an unrelated process), is stale.
  const stale =
    (owner !== undefined && owner !== process.pid && !isProcessAlive(owner)) || Date.now() - mtimeMs > staleMs;
  if (stale) {
    // Remove it only if it is still the same stale file (narrow the window against a racing breaker).
    const again = await fs.readFile(lockPath, "utf8").catch(() => undefined);
    if (again === content) await fs.rm(lockPath, { force: true });
  }
  return { ok: false, owner };
}

/**
 * Run `fn` while holding `<path>.lock`. Serialised in-process too. Throws HomeError LOCK_TIMEOUT if another live
 * process holds the lock longer than the timeout.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const staleMs = options.staleMs ?? 10_000;

  // In-process queue first, so concurrent callers in one process do not spin on the file.
  const previous = inProcessLocks.get(lockPath) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = previous.then(() => mine);
  inProcessLocks.set(lockPath, chained);
  await previous;

  try {
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      const r = await tryAcquire(lockPath, staleMs);
      if (r.ok) break;
      if (Date.now() >= deadline) {
        throw new HomeError(
          "LOCK_TIMEOUT",
          `${path} is locked${r.owner !== undefined ? ` by process ${r.owner}` : ""}; if no paseo process is running, remove ${lockPath}`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
    try {
      return await fn();
    } finally {
      await fs.rm(lockPath, { force: true });
    }
  } finally {
    release();
    if (inProcessLocks.get(lockPath) === chained) inProcessLocks.delete(lockPath);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// config.json

export interface PaseoConfig {
  /** The relay the daemon connects to and offers point at. */
  relay?: RelayEndpoint;
  /**
   * The app URL: where pairing links point (a static host serving dist/web, e.g. "https://me.github.io/paseo/");
   * saved by `daemon start|pair --app-url`. Default: the relay's URL when it runs on loopback, else none.
   */
  appUrl?: string;
  /** Older name of appUrl, still read (appUrl wins). */
  publicUrl?: string;
  /** Port of the embedded loopback relay (when no relay is set); saved by `daemon start --relay-port`. Default 7431. */
  embeddedRelayPort?: number;
  /**
   * Where the embedded relay listens, as typed to `daemon start --relay-host`: "0.0.0.0", an interface name or an
   * address (relay-host.ts resolves it at every start). Absent or loopback: 127.0.0.1 only.
   */
  embeddedRelayHost?: string;
  /** `--relay-advertise`: the host links name for a LAN embedded relay instead of the interface's address. */
  embeddedRelayAdvertise?: string;
  /** Other keys are preserved by loadConfig/saveConfig. */
  [key: string]: unknown;
}

export function configPath(home: string): string {
  return join(home, CONFIG_FILE);
}

function validateConfig(value: unknown, path: string): PaseoConfig {
  const bad = (what: string): never => {
    throw new HomeError("CONFIG_INVALID", `${path}: ${what} (fix or delete the file)`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("the config must be a JSON object");
  const cfg = value as PaseoConfig;
  if (cfg.relay !== undefined) {
    const r = cfg.relay as unknown;
    if (typeof r !== "object" || r === null || Array.isArray(r))
      bad('"relay" must be an object {"endpoint": "host:port", "tls": true|false}');
    const { endpoint, tls } = r as Record<string, unknown>;
    if (typeof endpoint !== "string" || !isValidRelayEndpoint(endpoint))
      bad('"relay.endpoint" must be "host:port" (no scheme)');
    if (typeof tls !== "boolean") bad('"relay.tls" must be true or false');
  }
  for (const key of ["appUrl", "publicUrl"] as const) {
    const v = cfg[key];
    if (v !== undefined && (typeof v !== "string" || !/^https?:\/\/[^\s#]+$/i.test(v)))
      bad(`"${key}" must be an http(s) URL without a # fragment`);
  }
  if (cfg.embeddedRelayPort !== undefined) {
    const port = cfg.embeddedRelayPort;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
      bad('"embeddedRelayPort" must be a port number from 1 to 65535');
  }
  for (const key of ["embeddedRelayHost", "embeddedRelayAdvertise"] as const) {
    const v = cfg[key];
    if (v !== undefined && (typeof v !== "string" || !/^[\w.:%[\]-]{1,253}$/.test(v)))
      bad(`"${key}" must be an interface name, an address or a host name`);
  }
  return cfg;
}

/** Load <home>/config.json ({} when missing). Throws HomeError CONFIG_INVALID / FILE_CORRUPT / FILE_UNREADABLE. */
export async function loadConfig(home: string): Promise<PaseoConfig> {
  const path = configPath(home);
  const value = await readJsonFile(path);
  if (value === undefined) return {};
  return validateConfig(value, path);
}

/** Write <home>/config.json atomically (0600), creating the home if needed. */
export async function saveConfig(home: string, config: PaseoConfig): Promise<void> {
  const path = configPath(home);
  validateConfig(config, path);
  await ensureHome(home);
  await withFileLock(path, () => writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`));
}
