/**
 * The daemon's identity: a static X25519 key pair and the serverId derived from it (docs/protocol.md §2), stored in
 * <home>/identity.json as {v:1, secretKeyB64, publicKeyB64, createdAt}, mode 0600, written atomically.
 *
 * A corrupt or unreadable identity file is NEVER replaced: replacing it would silently change the serverId and
 * strand every paired device. The error says how to recover instead.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { CryptoBackend } from "../protocol/crypto/backend.js";
import { loadDefaultBackend } from "../protocol/crypto/select.js";
import { bytesEqual, fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { PaseoError } from "../protocol/errors.js";
import { deriveServerId, keyFingerprint } from "../protocol/server-id.js";
import { HomeError, SECRET_FILE_MODE, ensureHome, readJsonFile, withFileLock, writeFileAtomic } from "./home.js";

export const IDENTITY_FILE = "identity.json";

export type IdentityErrorCode = "IDENTITY_CORRUPT" | "IDENTITY_UNREADABLE" | "IDENTITY_MISSING";

export class IdentityError extends PaseoError {
  declare readonly code: IdentityErrorCode;
  readonly path: string;
  constructor(code: IdentityErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}

export interface DaemonIdentity {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  serverId: string;
  /** Human-comparable key fingerprint ("abcd-efgh-ijkl-mnop"). */
  fingerprint: string;
  /** true when this call created the identity. */
  created: boolean;
  createdAt: string;
  /** Absolute path of identity.json. */
  path: string;
}

interface IdentityFile {
  v: 1;
  secretKeyB64: string;
  publicKeyB64: string;
  createdAt: string;
}

export function identityPath(home: string): string {
  return join(home, IDENTITY_FILE);
}

function corrupt(path: string, detail: string): IdentityError {
  return new IdentityError(
    "IDENTITY_CORRUPT",
    path,
    `daemon identity file ${path} is corrupt (${detail}). paseo will not replace it automatically. ` +
      `If you have a backup, restore it; otherwise move it away (mv ${path} ${path}.bad) to create a new identity ` +
      "— all paired devices must then re-pair.",
  );
}

function decodeIdentity(value: unknown, path: string, backend: CryptoBackend): Omit<DaemonIdentity, "created"> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw corrupt(path, "not a JSON object");
  const f = value as Record<string, unknown>;
  if (f.v !== 1) throw corrupt(path, `unsupported format version ${JSON.stringify(f.v) ?? "missing"}, expected 1`);
  const key = (field: "secretKeyB64" | "publicKeyB64"): Uint8Array => {
    const text = f[field];
    if (typeof text !== "string") throw corrupt(path, `field ${field} is missing`);
    const bytes = fromBase64Url(text);
    if (bytes === undefined) throw corrupt(path, `field ${field} is not valid base64url`);
    if (bytes.length !== 32) throw corrupt(path, `field ${field} is ${bytes.length} bytes, expected 32`);
    return bytes;
  };
  const secretKey = key("secretKeyB64");
  const publicKey = key("publicKeyB64");
  let derived: Uint8Array;
  try {
    derived = backend.publicKeyOf(secretKey);
  } catch {
    throw corrupt(path, "the secret key is not a valid X25519 key");
  }
  if (!bytesEqual(derived, publicKey)) throw corrupt(path, "the public key does not match the secret key");
  const createdAt = typeof f.createdAt === "string" ? f.createdAt : "";
  return {
    publicKey,
    secretKey,
    serverId: deriveServerId(backend, publicKey),
    fingerprint: keyFingerprint(backend, publicKey),
    createdAt,
    path,
  };
}

/** Read identity.json; undefined if it does not exist. IdentityError if corrupt or unreadable. */
async function readIdentity(
  home: string,
  backend: CryptoBackend,
): Promise<Omit<DaemonIdentity, "created"> | undefined> {
  const path = identityPath(home);
  let value: unknown;
  try {
    value = await readJsonFile(path);
  } catch (err) {
    if (err instanceof HomeError && err.code === "FILE_CORRUPT") throw corrupt(path, "not valid JSON");
    if (err instanceof HomeError && err.code === "FILE_UNSAFE") throw err; // another user's file: its message says the fix
    const why = err instanceof Error ? err.message : String(err);
    throw new IdentityError(
      "IDENTITY_UNREADABLE",
      path,
      `${why}. The daemon identity must be readable by the user running paseo (mode 0600); fix the file's owner or ` +
        "permissions — do not delete it unless you want a new identity (all paired devices must then re-pair).",
      { cause: err },
    );
  }
  if (value === undefined) return undefined;
  const identity = decodeIdentity(value, path, backend);
  // A secret key readable by others is a vulnerability: tighten it (best effort; never fatal).
  try {
    const st = await fs.stat(path);
    if ((st.mode & 0o077) !== 0) await fs.chmod(path, SECRET_FILE_MODE);
  } catch {
    // ignore
  }
  return identity;
}

/** Load the existing identity; never creates one. IdentityError IDENTITY_MISSING when there is none. */
export async function loadIdentity(home: string, backend?: CryptoBackend): Promise<DaemonIdentity> {
  const be = backend ?? (await loadDefaultBackend());
  const found = await readIdentity(home, be);
  if (found === undefined) {
    throw new IdentityError(
      "IDENTITY_MISSING",
      identityPath(home),
      `no daemon identity in ${home}: run \`paseo daemon pair\` (or start the daemon) to create one`,
    );
  }
  return { ...found, created: false };
}

/**
 * Load the identity, creating it (key pair + identity.json, 0600, home 0700) when there is none. Concurrent callers
 * (CLI and daemon) are serialised by a lock so exactly one identity is ever created.
 */
export async function loadOrCreateIdentity(home: string, backend?: CryptoBackend): Promise<DaemonIdentity> {
  const be = backend ?? (await loadDefaultBackend());
  const existing = await readIdentity(home, be);
  if (existing) return { ...existing, created: false };
  await ensureHome(home);
  const path = identityPath(home);
  return withFileLock(path, async () => {
    const raced = await readIdentity(home, be);
    if (raced) return { ...raced, created: false };
    const { publicKey, secretKey } = be.generateKeyPair();
    const file: IdentityFile = {
      v: 1,
      secretKeyB64: toBase64Url(secretKey),
      publicKeyB64: toBase64Url(publicKey),
      createdAt: new Date().toISOString(),
    };
    await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, SECRET_FILE_MODE);
    return {
      publicKey,
      secretKey,
      serverId: deriveServerId(be, publicKey),
      fingerprint: keyFingerprint(be, publicKey),
      createdAt: file.createdAt,
      path,
      created: true,
    };
  });
}
