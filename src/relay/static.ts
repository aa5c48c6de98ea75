/**
 * Serves the browser app (or a small text page) at `/`. The app holds pairing secrets in memory, so it is locked
 * down: a strict Content-Security-Policy (same-origin scripts and styles only, no framing, no base-uri tricks),
 * no Referer (the offer lives in the URL fragment, but other parts of a URL should not leak either), no MIME
 * sniffing. Files are only served from inside staticDir (paths are resolved and checked, symlinks included).
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
  ".woff2": "font/woff2",
};

const ROOT_PAGE = "paseo relay\n\nThis relay forwards end-to-end encrypted traffic between paseo daemons and clients.\n" +
  "It sees routing ids and ciphertext only. See /health for status.\n";

function sendText(res: ServerResponse, status: number, text: string, head: boolean): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

/** Resolve a URL path to a file strictly inside `rootReal` (already a real path), with its size, or undefined. */
async function resolveInside(rootReal: string, urlPath: string): Promise<{ file: string; size: number } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  let candidate = resolve(rootReal, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
  try {
    if ((await stat(candidate)).isDirectory()) candidate = join(candidate, "index.html");
    const real = await realpath(candidate);
    if (real !== rootReal && !real.startsWith(rootReal + sep)) return undefined;
    const info = await stat(real);
    return info.isFile() ? { file: real, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

/** Handle a GET/HEAD for anything that is not an API path. */
export async function serveStatic(staticDir: string | undefined, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === "HEAD";
  if (staticDir === undefined) {
    if (path === "/") sendText(res, 200, ROOT_PAGE, head);
    else sendText(res, 404, "not found\n", head);
    return;
  }
  const found = await resolveInside(staticDir, path);
  if (!found) return sendText(res, 404, "not found\n", head);
  const { file, size } = found;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "Content-Type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": size,
    // index.html must be revalidated so a new app version is picked up; other assets may be cached briefly.
    "Cache-Control": file.endsWith(".html") ? "no-cache" : "public, max-age=3600",
  });
  if (head) return void res.end();
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res);
}
