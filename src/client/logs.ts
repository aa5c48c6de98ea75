/**
 * Log following for DaemonClient. The client picks the subscription id before sending `agents.logs`, so chunks
 * that arrive in the same flight as the response are never missed. Every chunk's sequence number is checked:
 * a duplicate is impossible by construction, a gap is a named error. After a dropped connection (with reconnect
 * on) it resubscribes from the last sequence number seen + 1.
 *
 * Memory is bounded: when the consumer falls more than QUEUE_HIGH_BYTES behind, the subscription is cancelled and
 * later chunks are discarded locally; once the consumer has drained the queue it resubscribes from the next
 * sequence number. The daemon's on-disk log is authoritative, so nothing is lost.
 */
import type { StreamChunk } from "../protocol/frame.js";
import { PaseoError } from "../protocol/errors.js";
import type { RpcEvent } from "../protocol/rpc.js";
import type { Session } from "./session.js";

export interface LogsOptions {
  /** First sequence number to return (inclusive); default 1 = from the beginning. */
  since?: number;
  /** Keep streaming live output until the agent ends. */
  follow?: boolean;
  /** Stop early: the iterator ends at once and the subscription is cancelled on the daemon. */
  signal?: AbortSignal;
}

export interface LogChunk {
  seq: number;
  stream: "stdout" | "stderr";
  data: Uint8Array;
}

export class LogGapError extends PaseoError {
  constructor(expected: number, got: number) {
    super("LOG_GAP", `log stream out of order: expected chunk ${expected}, got ${got}`);
  }
}

interface LogSource {
  sessionForStreaming(): Promise<Session>;
  nextSession(error: PaseoError): Promise<Session>;
}

type Item =
  | { kind: "chunk"; chunk: StreamChunk }
  | { kind: "end" }
  | { kind: "abort" }
  | { kind: "error"; error: PaseoError }
  | { kind: "overflow" };

export const QUEUE_HIGH_BYTES = 8 * 1024 * 1024;

/** An unbounded-by-design-but-drained FIFO between socket callbacks and the async iterator. */
class Queue {
  private items: Item[] = [];
  private waiter: ((item: Item) => void) | undefined;
  bytes = 0;
  push(item: Item): void {
    if (item.kind === "chunk") this.bytes += item.chunk.data.length;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
    } else this.items.push(item);
  }
  take(): Promise<Item> {
    const item = this.items.shift();
    if (item?.kind === "chunk") this.bytes -= item.chunk.data.length;
    if (item) return Promise.resolve(item);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

let nextSub = 1;

/** A subscription id unique among this process's subscriptions (log follows and terminal attachments share it). */
export function allocateSub(): number {
  const sub = nextSub;
  nextSub = (nextSub % (2 ** 31 - 1)) + 1;
  return sub;
}

export async function* followLogs(client: LogSource, id: string, options: LogsOptions): AsyncGenerator<LogChunk> {
  let next = options.since ?? 1;
  let session = await client.sessionForStreaming();
  for (;;) {
    if (options.signal?.aborted) return;
    const queue = new Queue();
    const onAbort = () => queue.push({ kind: "abort" });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const sub = allocateSub();
    let overflowed = false;
    const unsubscribe = session.subscribe(sub, {
      onChunk: (chunk) => {
        if (overflowed) return; // re-read from disk after the resubscribe below
        queue.push({ kind: "chunk", chunk });
        if (queue.bytes > QUEUE_HIGH_BYTES) {
          overflowed = true;
          queue.push({ kind: "overflow" });
          session.request("agents.unsubscribe", { sub }, 5_000).catch(() => {});
        }
      },
      onEvent: (event: RpcEvent) => {
        if (event.event === "end") queue.push({ kind: "end" });
        else
          queue.push({
            kind: "error",
            error: new PaseoError(event.error?.code ?? "STREAM_ERROR", event.error?.message ?? "log stream failed"),
          });
      },
    });
    session
      .request("agents.logs", { id, sub, since: next, follow: options.follow === true }, 15_000)
      .catch((error: PaseoError) => queue.push({ kind: "error", error }));
    let finished = false;
    try {
      for (;;) {
        const item = await queue.take();
        if (item.kind === "end") {
          finished = true;
          return;
        }
        if (item.kind === "abort") return;
        if (item.kind === "error") throw item.error;
        if (item.kind === "overflow") break; // the consumer caught up: resubscribe from `next`
        const { seq, fd, data } = item.chunk;
        if (seq !== next) throw new LogGapError(next, seq);
        next = seq + 1;
        yield { seq, stream: fd === 2 ? "stderr" : "stdout", data };
      }
    } catch (error) {
      // A dead session surfaces as a stream event; rethrow the session's own named error (TimeoutError, …).
      const cause = session.closeError ?? error;
      if (!options.follow || !session.closed) throw cause;
      session = await client.nextSession(cause as PaseoError);
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      unsubscribe();
      if (!finished && !overflowed && !session.closed)
        session.request("agents.unsubscribe", { sub }, 5_000).catch(() => {});
    }
  }
}
