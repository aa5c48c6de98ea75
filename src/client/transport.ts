/**
 * The socket abstraction DaemonClient runs on: the browser's global WebSocket, or `ws` in Node (loaded lazily, and
 * through node-websocket.ts, which package.json's `browser` field maps to nothing, so browser bundles never include
 * it).
 * Tests and embedders may inject their own constructor.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

let nodeWs: WebSocketConstructor | undefined;

/** The WebSocket constructor to use: injected, else global (browsers, Node ≥ 22), else `ws`. */
export async function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (injected) return injected;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  if (!nodeWs) {
    // Only reached without a global WebSocket, i.e. in Node < 22: a browser bundle has an empty module here.
    const mod = (await import("./node-websocket.js")) as unknown as { WebSocket: WebSocketConstructor };
    nodeWs = mod.WebSocket;
  }
  return nodeWs;
}

/** Normalise a message event's data (ArrayBuffer, Buffer, Blob is not used: binaryType is "arraybuffer"). */
export function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) {
    // ws may deliver fragmented messages as Buffer[] when binaryType is "fragments"; we never set that.
    return undefined;
  }
  return undefined;
}
