/**
 * Backend selection. Node uses `native` by default; browsers (and anyone who asks) use `noble`.
 * Force one with `PASEO_CRYPTO=noble|native` or by passing a backend explicitly to the APIs that take one.
 *
 * The native backend is loaded with a dynamic import so that a browser bundle never pulls in node:crypto:
 * call `await loadDefaultBackend()` once at startup (DaemonClient and the daemon do this).
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
  if (!isNode()) throw new PaseoError("CRYPTO_BACKEND", "the native crypto backend needs Node.js; use noble in browsers");
  // The specifier is built at run time so bundlers for the browser do not follow it.
  const path = ["./native", "js"].join("."); // a minifier would fold a plain constant back into import("./native.js")
  const mod = (await import(/* @vite-ignore */ path)) as typeof import("./native.js");
  return mod.nativeBackend;
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
