/**
 * Where an agent host listens: `<agentDir>/host.sock`, a unix socket created with mode 0600 inside the agent's 0700
 * directory, so only the daemon's user can reach it (that is the whole access control: same user = same trust as
 * the daemon itself).
 *
 * A unix socket path must fit sun_path (108 bytes with the NUL on Linux, 104 on macOS). A deep PASEO_HOME can
 * exceed that; then the socket goes to a short private directory instead — `$XDG_RUNTIME_DIR/paseo/` when set and
 * short, else `/tmp/paseo-<uid>/` — created 0700 and refused unless it is a real directory owned by us with no
 * group/other access (a planted directory or symlink in /tmp is not used). The name there is
 * `<agent id>-<8 hex of sha256(agentDir)>.sock`, so two homes never collide. The chosen path is recorded in the
 * agent's meta.json, which is how a restarted daemon finds it.
 */
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Longest socket path we use (bytes, without the NUL): below both Linux's 107 and macOS's 103. */
export const MAX_SOCKET_PATH = 100;

export class SocketPathError extends Error {}

export function hostSocketPath(agentDir: string, id: string): string {
  const direct = join(agentDir, "host.sock");
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return direct;
  const name = `${id}-${createHash("sha256").update(agentDir).digest("hex").slice(0, 8)}.sock`;
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const candidates = [
    process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, "paseo") : null,
    `/tmp/paseo-${uid}`,
  ];
  const problems: string[] = [];
  for (const dir of candidates) {
    if (!dir || Buffer.byteLength(join(dir, name)) > MAX_SOCKET_PATH) continue;
    const why = ensurePrivateDir(dir, uid);
    if (why === null) return join(dir, name);
    problems.push(`${dir}: ${why}`);
  }
  throw new SocketPathError(
    `no usable path for the agent's socket: ${direct} is longer than ${MAX_SOCKET_PATH} bytes and ${problems.join("; ") || "no short runtime directory exists"}; use a shorter PASEO_HOME`,
  );
}

/** null when `dir` is (now) a directory owned by us with mode 0700; else what is wrong with it. */
function ensurePrivateDir(dir: string, uid: number): string | null {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") return (err as Error).message;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) return "not a directory (or a symlink)";
  if (st.uid !== uid) return "owned by another user";
  if ((st.mode & 0o077) !== 0) return "accessible by other users";
  return null;
}
