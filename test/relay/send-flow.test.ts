/**
 * SendFlow (src/relay/flow.ts): the one "writable again" mechanism of the daemon's sockets. Real ws sockets on
 * loopback: the reader stops reading, the sender's buffer passes the high mark (writable goes false), and the
 * waiting listener runs once the reader drains it below the low mark — from ws send callbacks, with no polling.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { SendFlow } from "../../src/relay/flow.js";

const CHUNK = new Uint8Array(256 * 1024);
const HIGH = 1024 * 1024;
const LOW = 512 * 1024;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function pair(): Promise<{ sender: WebSocket; reader: WebSocket }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const sent = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const reader = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => reader.once("open", () => resolve()).once("error", reject));
  const sender = await sent;
  cleanup = async () => {
    reader.terminate();
    sender.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  return { sender, reader };
}

/** Send until the flow says "not writable" (a paused reader lets the kernel buffers fill; bounded at 256 MiB). */
function fill(flow: SendFlow, sender: WebSocket): void {
  for (let i = 0; i < 1024 && flow.writable; i++) flow.send(sender, CHUNK);
}

describe("SendFlow", () => {
  it("is not writable past the high mark and wakes waiters once the reader drains the buffer", async () => {
    const { sender, reader } = await pair();
    const flow = new SendFlow({ high: HIGH, low: LOW });
    reader.pause();
    fill(flow, sender);
    expect(flow.writable).toBe(false);
    expect(sender.bufferedAmount).toBeGreaterThan(HIGH);
    let woke = false;
    const writableAgain = new Promise<void>((resolve) =>
      flow.onWritable(() => {
        woke = true;
        resolve();
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(woke).toBe(false); // the reader is still paused: nothing drained
    reader.resume();
    await Promise.race([
      writableAgain,
      new Promise((_, reject) => setTimeout(() => reject(new Error("never writable again")), 10_000)),
    ]);
    expect(flow.writable).toBe(true);
    expect(sender.bufferedAmount).toBeLessThan(LOW);
  });

  it("reset() (the socket is gone) wakes waiters at once", async () => {
    const { sender, reader } = await pair();
    const flow = new SendFlow({ high: HIGH, low: LOW });
    reader.pause();
    fill(flow, sender);
    expect(flow.writable).toBe(false);
    let woke = false;
    flow.onWritable(() => (woke = true));
    flow.reset();
    expect(woke).toBe(true);
    expect(flow.writable).toBe(true);
  });
});
