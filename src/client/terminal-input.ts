/**
 * Input batching of TerminalSession: keystrokes typed while a terminal.input is in flight are coalesced into the
 * next message; a write larger than TERMINAL_INPUT_MAX_BYTES (a paste) goes out in pieces, in order.
 */
import { TERMINAL_INPUT_MAX_BYTES } from "../protocol/rpc-params.js";

export type InputItem = { bytes: Uint8Array; resolve(): void; reject(err: unknown): void };

export interface Batch {
  bytes: Uint8Array;
  /** Sent: settle what it completed. */
  ok(): void;
  /** Not sent (rate limit, reconnect): put it back as it was. */
  undo(): void;
  /** Refused: the writes it belongs to fail with the daemon's named error. */
  fail(err: unknown): void;
}

/**
 * Up to TERMINAL_INPUT_MAX_BYTES from the head of the queue. Small writes are coalesced whole; a write too big for
 * one message is sent in pieces and settles with its last piece.
 */
export function takeBatch(queue: InputItem[]): Batch {
  const head = queue[0]!;
  if (head.bytes.length > TERMINAL_INPUT_MAX_BYTES) {
    queue[0] = { ...head, bytes: head.bytes.subarray(TERMINAL_INPUT_MAX_BYTES) };
    return {
      bytes: head.bytes.subarray(0, TERMINAL_INPUT_MAX_BYTES),
      ok() {},
      undo: () => {
        queue[0] = head;
      },
      fail: (err) => {
        queue.shift();
        head.reject(err);
      },
    };
  }
  const done: InputItem[] = [];
  let size = 0;
  while (queue.length > 0 && size + queue[0]!.bytes.length <= TERMINAL_INPUT_MAX_BYTES) {
    const item = queue.shift()!;
    done.push(item);
    size += item.bytes.length;
  }
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const d of done) {
    bytes.set(d.bytes, off);
    off += d.bytes.length;
  }
  return {
    bytes,
    ok: () => {
      for (const w of done) w.resolve();
    },
    undo: () => void queue.unshift(...done),
    fail: (err) => {
      for (const w of done) w.reject(err);
    },
  };
}
