/**
 * The local protocol between the daemon and an agent's host process, over the host's unix socket (0600, see
 * host-socket.ts). Not on the wire: only the daemon (same user, same machine) ever speaks it, but a daemon after an
 * upgrade must still talk to hosts started by the previous version, so it is versioned (HOST_PROTOCOL_VERSION in
 * the hello) and documented in docs/agent-hosts.md.
 *
 * Frame: [u32 BE length of what follows][u8 kind][payload]
 *   kind 1 JSON    UTF-8 JSON object, both directions (HostMessage / DaemonMessage below)
 *   kind 2 RECORD  host → daemon: one output record already on disk: [u64 BE seq][u8 fd][data]
 *   kind 3 INPUT   daemon → host: [u32 BE request id][bytes for the program's stdin / PTY]; request id
 *                  NO_REPLY (0): answered only if the write fails (see docs/agent-hosts.md)
 */
import type { ScreenSnapshot } from "../types.js";

export const HOST_PROTOCOL_VERSION = 1;
/** Largest frame either side accepts (an input of 4 MiB, the RPC limit, plus headers fits). */
export const MAX_FRAME = 8 << 20;

export const KIND_JSON = 1;
export const KIND_RECORD = 2;
export const KIND_INPUT = 3;
/** INPUT request id that wants no `res` unless the write fails (request ids start at 1). */
export const NO_REPLY = 0;

/** How an agent ended, as the host records it in exit.json and sends it in "exit". */
export interface ExitRecord {
  code: number | null;
  signal: string | null;
  /** Set when paseo ended it: "stopped", "daemon-stopped", "host-terminated". */
  reason: string | null;
  endedAt: string;
  /** The log's final nextSeq / data bytes (the log is sealed and fsync'd before this is written). */
  nextSeq: number;
  bytes: number;
}

export type HostMessage =
  | {
      t: "hello";
      v: number;
      id: string;
      pid: number;
      tty: boolean;
      cols: number | null;
      rows: number | null;
      nextSeq: number;
      ended: ExitRecord | null;
    }
  | { t: "res"; id: number; ok: true; result?: ScreenSnapshot }
  | { t: "res"; id: number; ok: false; error: { code: string; message: string } }
  /** Live records were skipped (the daemon read too slowly): everything before nextSeq is on disk. */
  | { t: "sync"; nextSeq: number }
  | { t: "exit"; exit: ExitRecord };

export type DaemonRequest =
  | { op: "resize"; cols: number; rows: number }
  | { op: "screen" }
  | { op: "stop"; graceMs: number; reason: string }
  | { op: "closeInput" };
export type DaemonMessage = ({ t: "req"; id: number } & DaemonRequest) | { t: "bye" };

export function encodeJson(msg: HostMessage | DaemonMessage): Buffer {
  return frame(KIND_JSON, Buffer.from(JSON.stringify(msg), "utf8"));
}

export function encodeRecord(seq: number, fd: 1 | 2, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + 1 + 9 + data.length);
  out.writeUInt32BE(1 + 9 + data.length, 0);
  out[4] = KIND_RECORD;
  out.writeBigUInt64BE(BigInt(seq), 5);
  out[13] = fd;
  out.set(data, 14);
  return out;
}

export function encodeInput(id: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + 1 + 4 + data.length);
  out.writeUInt32BE(1 + 4 + data.length, 0);
  out[4] = KIND_INPUT;
  out.writeUInt32BE(id, 5);
  out.set(data, 9);
  return out;
}

function frame(kind: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt32BE(1 + payload.length, 0);
  out[4] = kind;
  out.set(payload, 5);
  return out;
}

export type Frame =
  | { kind: typeof KIND_JSON; msg: Record<string, unknown> }
  | { kind: typeof KIND_RECORD; seq: number; fd: 1 | 2; data: Uint8Array }
  | { kind: typeof KIND_INPUT; id: number; data: Uint8Array };

export class HostFrameError extends Error {}

/** Incremental decoder: push() socket chunks, get whole frames. Throws HostFrameError on a malformed stream. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(0);
      if (len < 1 || len > MAX_FRAME) throw new HostFrameError(`bad frame length ${len}`);
      if (this.buf.length < 4 + len) break;
      const kind = this.buf[4]!;
      const body = this.buf.subarray(5, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      out.push(decodeFrame(kind, body));
    }
    return out;
  }
}

function decodeFrame(kind: number, body: Buffer): Frame {
  switch (kind) {
    case KIND_JSON: {
      let msg: unknown;
      try {
        msg = JSON.parse(body.toString("utf8"));
      } catch {
        throw new HostFrameError("a JSON frame is not valid JSON");
      }
      if (!msg || typeof msg !== "object" || Array.isArray(msg))
        throw new HostFrameError("a JSON frame is not an object");
      return { kind, msg: msg as Record<string, unknown> };
    }
    case KIND_RECORD: {
      if (body.length < 9) throw new HostFrameError("short record frame");
      const fd = body[8];
      if (fd !== 1 && fd !== 2) throw new HostFrameError(`record frame with fd ${fd}`);
      // Copy: the decoder's buffer is reused; a retained chunk must not pin it.
      return { kind, seq: Number(body.readBigUInt64BE(0)), fd, data: new Uint8Array(body.subarray(9)) };
    }
    case KIND_INPUT:
      if (body.length < 4) throw new HostFrameError("short input frame");
      return { kind, id: body.readUInt32BE(0), data: new Uint8Array(body.subarray(4)) };
    default:
      throw new HostFrameError(`unknown frame kind ${kind}`);
  }
}
