/**
 * agent_output's reader: a bounded page of an agent's log, never the whole log. An agent may have written gigabytes;
 * an assistant's context holds kilobytes. Two ways in, both through DaemonClient.logs() (agents.logs without
 * follow — the daemon's on-disk log is the source, nothing is cached here):
 *
 * - forward from a position (`since` seq, `offset` bytes into that chunk): chunks until `maxBytes`, then the
 *   stream is cancelled. The page ends with the position to continue from, so paging is exact: every byte once,
 *   even when one chunk is bigger than a page (it is split at a UTF-8 character boundary). Optionally it waits for
 *   output that has not been written yet.
 * - the last `lines` lines: read backwards in windows of chunks from the log's end, each window twice the last,
 *   until the window holds enough lines or `maxBytes` of output — so the cost is the page, not the history.
 */
import type { DaemonClient } from "../../client/daemon-client.js";
import type { AgentInfo } from "../../protocol/rpc.js";
import { ToolParamsError } from "./errors.js";
import { utf8Boundary } from "./text.js";

/** The most output bytes one agent_output call returns. */
export const OUTPUT_PAGE_MAX_BYTES = 64 * 1024;

export interface OutputPage {
  bytes: Uint8Array;
  /** Position of the first byte returned. */
  from: { seq: number; offset: number };
  /** Where the next page starts (`next.seq` = the log's nextSeq and offset 0 when everything was read). */
  next: { seq: number; offset: number };
  /** The page was cut at maxBytes: forward, more output follows at `next`; for lines, fewer lines than asked. */
  truncated: boolean;
}

/** After waiting output starts to arrive, a page is returned once the agent has been quiet this long. */
const QUIET_MS = 100;

/**
 * A forward page from `since` (+ `offset` bytes into that chunk), at most `maxBytes`. With `waitMs`, when there is
 * nothing at `since` yet and the agent runs, waits that long for output (agents.logs with follow) and returns as
 * soon as some arrived and the agent paused for QUIET_MS, or it ended — an assistant waits for a build without
 * polling.
 */
export async function readForward(
  client: DaemonClient,
  agent: AgentInfo,
  since: number,
  offset: number,
  maxBytes: number,
  waitMs = 0,
): Promise<OutputPage> {
  if (since > agent.nextSeq)
    throw new ToolParamsError(
      `"since" is ${since}, past the end of agent ${agent.id}'s output: its next chunk will be ${agent.nextSeq}`,
    );
  const page = new Page(since, offset, maxBytes);
  const follow = waitMs > 0 && agent.state === "running" && since === agent.nextSeq;
  if (since === agent.nextSeq && !follow) return page.result();
  const stop = new AbortController();
  const chunks = client.logs(agent.id, { since, follow, signal: stop.signal })[Symbol.asyncIterator]();
  const deadline = performance.now() + waitMs;
  let quietBy = Number.POSITIVE_INFINITY;
  try {
    for (;;) {
      const next = follow ? nextWithin(chunks, Math.min(deadline, quietBy) - performance.now()) : chunks.next();
      const r = await next;
      if (r === "timeout" || r.done) break;
      if (!page.add(r.value)) break; // full
      quietBy = performance.now() + QUIET_MS;
    }
  } finally {
    stop.abort(); // cancels the subscription on the daemon: the rest of the log is not sent
    await chunks.return?.(undefined);
  }
  return page.result();
}

function nextWithin<T>(it: AsyncIterator<T>, ms: number): Promise<IteratorResult<T> | "timeout"> {
  if (ms <= 0) return Promise.resolve("timeout");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  return Promise.race([it.next(), timeout]).finally(() => clearTimeout(timer));
}

/** The bytes of one forward page, cut at maxBytes (inside a chunk if need be) with the position after them. */
class Page {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private next: { seq: number; offset: number };
  private truncated = false;

  constructor(
    private readonly since: number,
    private readonly offset: number,
    private readonly maxBytes: number,
  ) {
    this.next = { seq: since, offset };
  }

  /** Take what fits of `chunk`; false once the page is full. */
  add(chunk: { seq: number; data: Uint8Array }): boolean {
    const skip = chunk.seq === this.since ? Math.min(this.offset, chunk.data.length) : 0;
    const data = chunk.data.subarray(skip);
    const room = this.maxBytes - this.size;
    if (data.length <= room) {
      this.parts.push(data);
      this.size += data.length;
      this.next = { seq: chunk.seq + 1, offset: 0 };
      return true;
    }
    // Cut inside this chunk at a character boundary; at least one character, so a page always advances.
    let cut = utf8Boundary(data, room);
    if (cut === 0 && this.size === 0) cut = Math.min(data.length, 4);
    this.parts.push(data.subarray(0, cut));
    this.size += cut;
    this.next = { seq: chunk.seq, offset: skip + cut };
    this.truncated = true;
    return false;
  }

  result(): OutputPage {
    return {
      bytes: concat(this.parts, this.size),
      from: { seq: this.since, offset: this.offset },
      next: this.next,
      truncated: this.truncated,
    };
  }
}

/** The last `lines` lines of the log (at most `maxBytes` of them, the newest kept), ending at the log's end. */
export async function readTail(
  client: DaemonClient,
  agent: AgentInfo,
  lines: number,
  maxBytes: number,
): Promise<OutputPage> {
  const end = agent.nextSeq;
  const chunks = end - 1;
  if (chunks <= 0)
    return { bytes: new Uint8Array(), from: { seq: 1, offset: 0 }, next: { seq: 1, offset: 0 }, truncated: false };
  // First window: about 2 × maxBytes of chunks at the log's average chunk size.
  const average = Math.max(1, agent.bytes / chunks);
  let window = Math.min(chunks, Math.max(1, Math.ceil((2 * maxBytes) / average)));
  for (;;) {
    const since = end - window;
    const parts: Uint8Array[] = [];
    let size = 0;
    let last = since - 1;
    for await (const chunk of client.logs(agent.id, { since })) {
      if (chunk.seq >= end) break; // written since agent_output started: the next page reads it
      parts.push(chunk.data);
      size += chunk.data.length;
      last = chunk.seq;
    }
    const all = concat(parts, size);
    const { start, cut } = tailStart(all, lines, maxBytes);
    if (start > 0 || since === 1) {
      // Where the page starts, in log terms: the chunk holding byte `start`.
      let seq = since;
      let at = 0;
      for (const p of parts) {
        if (at + p.length > start) break;
        at += p.length;
        seq++;
      }
      return {
        bytes: all.subarray(start),
        from: { seq, offset: start - at },
        next: { seq: last + 1, offset: 0 },
        truncated: cut,
      };
    }
    window = Math.min(chunks, window * 2);
  }
}

/**
 * Where the last `lines` lines of `bytes` start, kept within the last `maxBytes` (`cut`: that limit decided it):
 * 0 when the whole buffer is needed (fewer lines than asked, and it fits). A final line without its newline counts.
 */
export function tailStart(bytes: Uint8Array, lines: number, maxBytes: number): { start: number; cut: boolean } {
  const floor = Math.max(0, bytes.length - maxBytes);
  let found = 0;
  let i = bytes.length - 1;
  if (i >= 0 && bytes[i] === 0x0a) i--; // the last line's own newline
  for (; i >= floor; i--) {
    if (bytes[i] === 0x0a && ++found === lines) return { start: i + 1, cut: false };
  }
  if (floor === 0) return { start: 0, cut: false };
  // Cut by maxBytes mid-line: start at a character boundary after the floor.
  let p = floor;
  while (p < bytes.length && (bytes[p]! & 0xc0) === 0x80) p++;
  return { start: p, cut: true };
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
