/**
 * Serving the browser app: an allow-list of the app's own files, loaded once at start, and the headers that lock the
 * page down. Used by the relay (only when its operator opts in with `serveApp`) and by `paseo open` (on loopback).
 *
 * Why an allow-list read into memory at start: the page that reads pairing secrets must be exactly the packaged
 * app. Resolving request paths against a directory on every request served whatever else sat there (`/.env`,
 * editor backups, a file swapped in later); now only the files found at start (no dotfiles, no dot-directories,
 * regular files only) exist, every other path is 404, and no later change on disk alters what is served.
 *
 * Why a per-server CSP: the app holds pairing secrets in memory, and `connect-src ws: wss:` let any script the page
 * ran send them to any host. `connect-src` now names only the relay the page is meant to talk to ('self' for a
 * relay serving its own app, the offer's relay for `paseo open`).
 */
import { lstatSync, readdirSync, readFileSync, type Stats } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { PaseoError } from "../protocol/errors.js";

import {
  CONTENT_SECURITY_POLICY,
  ROOT_PAGE,
  SECURITY_HEADERS,
  appContentSecurityPolicy,
  securityHeaders,
} from "../protocol/relay/http.js";

export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS, appContentSecurityPolicy, securityHeaders };

/**
 * The kinds of file a built web app is made of. Anything else in the directory (.json, .txt, archives, keys) is not
 * served even if it sits there: a config or notes file next to the app is not part of it.
 */
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** Upper bounds so a wrong directory (e.g. `/`) fails at start instead of reading a disk into memory. */
const MAX_APP_FILES = 256;
const MAX_APP_BYTES = 16 * 1024 * 1024;

export class AppDirError extends PaseoError {
  constructor(message: string) {
    super("APP_DIR", message);
  }
}

interface AppFile {
  body: Buffer;
  type: string;
  /** index.html is revalidated so a new app version is picked up; other assets may be cached briefly. */
  cacheControl: string;
}

/** The app's files by URL path ("/", "/index.html", "/app.js", …). Nothing else is ever served. */
export interface AppFiles {
  readonly dir: string;
  readonly files: ReadonlyMap<string, AppFile>;
}

/**
 * Read the app in `dir` into an allow-list. Skips dotfiles and dot-directories, symlinks (they could point anywhere)
 * and anything that is not a regular file with a web content type; contents are read now, so later swaps on disk are
 * never served. Throws AppDirError when there is no index.html.
 */
export function loadAppFiles(dir: string): AppFiles {
  const files = new Map<string, AppFile>();
  let total = 0;
  const walk = (abs: string, urlPrefix: string, depth: number): void => {
    if (depth > 8) return;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      throw new AppDirError(`the app directory ${dir} is not readable`);
    }
    for (const name of names.sort()) {
      if (name.startsWith(".")) continue; // never .env, .git, .htpasswd, editor swap files
      const full = join(abs, name);
      let info: Stats;
      try {
        info = lstatSync(full);
      } catch {
        continue; // removed while we walked
      }
      if (info.isDirectory()) {
        walk(full, `${urlPrefix}${name}/`, depth + 1);
        continue;
      }
      if (!info.isFile()) continue;
      const type = CONTENT_TYPES[extname(name).toLowerCase()];
      if (type === undefined) continue; // not part of a web app (e.g. a stray archive): never served
      total += info.size;
      if (files.size >= MAX_APP_FILES || total > MAX_APP_BYTES) {
        throw new AppDirError(
          `the app directory ${dir} holds more than ${MAX_APP_FILES} files or ${MAX_APP_BYTES} bytes: is it really the built app (dist/web)?`,
        );
      }
      files.set(`${urlPrefix}${name}`, {
        body: readFileSync(full),
        type,
        cacheControl: name.endsWith(".html") ? "no-cache" : "public, max-age=3600",
      });
    }
  };
  walk(dir, "/", 0);
  const index = files.get("/index.html");
  if (!index)
    throw new AppDirError(
      `the app directory ${dir} has no index.html (build it with \`npm run build\`; it lands in dist/web)`,
    );
  files.set("/", index);
  return { dir, files };
}

function sendText(res: ServerResponse, status: number, text: string, head: boolean, csp: string): void {
  res.writeHead(status, {
    ...securityHeaders(csp),
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(head ? undefined : text);
}

/**
 * Answer a GET/HEAD for a non-API path: the app file at exactly `path` (no decoding, no normalization: the
 * allow-list holds the only valid spellings), else 404. Without an app, `/` is a short text page.
 */
export function serveApp(
  app: AppFiles | undefined,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  csp = CONTENT_SECURITY_POLICY,
): void {
  const head = req.method === "HEAD";
  if (app === undefined) {
    if (path === "/") sendText(res, 200, ROOT_PAGE, head, csp);
    else sendText(res, 404, "not found\n", head, csp);
    return;
  }
  const file = app.files.get(path);
  if (!file) return sendText(res, 404, "not found\n", head, csp);
  res.writeHead(200, {
    ...securityHeaders(csp),
    "Content-Type": file.type,
    "Content-Length": file.body.length,
    "Cache-Control": file.cacheControl,
  });
  res.end(head ? undefined : file.body);
}
