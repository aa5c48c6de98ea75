/**
 * Backend selection. Node uses `native` by default; browsers (and anyone who asks) use `noble`.
 * Force one with `PASEO_CRYPTO=noble|native` or by passing a backend explicitly to the APIs that take one.
 *
 * The native backend is loaded with a dynamic import, only in Node; a browser bundle never pulls in node:crypto
 * because package.json's `browser` field maps ./native.js to nothing (the isNode() check runs first). Call
 * `await loadDefaultBackend()` once at startup (DaemonClient and the daemon do this).
 */
import type { CryptoBackend } from "./backend.js";
import { PaseoError } from "../errors.js";

let cached: CryptoBackend | undefined;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

function envChoice(): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.PASEO_CRYPTO;
}

export async function loadBackend(name: "noble" | "native"): Promise<CryptoBackend> {
  // A static specifier: bundlers include noble in browser builds, while Node only loads it when asked (the CLI
  // never is, which keeps ~40 ms of curve code out of `paseo ls`).
  if (name === "noble") return (await import("./noble.js")).nobleBackend;
  if (!isNode())
    throw new PaseoError("CRYPTO_BACKEND", "the native crypto backend needs Node.js; use noble in browsers");
  // Browser bundlers replace this module with an empty one (package.json `browser`), so it is only ever real here.
  return (await import("./native.js")).nativeBackend;
}

/** The process-wide default backend: PASEO_CRYPTO if set, else native in Node, else noble. */
export async function loadDefaultBackend(): Promise<CryptoBackend> {
  if (cached) return cached;
  const choice = envChoice();
  if (choice !== undefined && choice !== "noble" && choice !== "native") {
    throw new PaseoError("CRYPTO_BACKEND", `PASEO_CRYPTO must be "noble" or "native" (got "${choice}")`);
  }
  cached = await loadBackend((choice as "noble" | "native" | undefined) ?? (isNode() ? "native" : "noble"));
  return cached;
}

/** The backend already loaded by loadDefaultBackend(). */
export function currentBackend(): CryptoBackend {
  if (!cached) throw new PaseoError("CRYPTO_BACKEND", "no crypto backend loaded yet: await loadDefaultBackend() first");
  return cached;
}
