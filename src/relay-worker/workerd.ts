/**
 * The few workerd (Cloudflare Workers) APIs the Worker relay uses, typed here so tsc checks this directory without a
 * dependency on @cloudflare/workers-types. Names and shapes follow the Workers runtime documentation: the WebSocket
 * hibernation API (acceptWebSocket, getWebSockets, serializeAttachment) and Durable Object namespaces.
 */

/** A server-side WebSocket in workerd: the DOM WebSocket plus the hibernation attachment. */
export interface WorkerSocket {
  readonly readyState: number;
  /** Start handling events on a socket this Worker holds without the hibernation API (refusals only). */
  accept(): void;
  send(data: ArrayBuffer | ArrayBufferView | string): void;
  close(code?: number, reason?: string): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

export interface DurableObjectState {
  acceptWebSocket(ws: WorkerSocket, tags?: string[]): void;
  getWebSockets(tag?: string): WorkerSocket[];
}

export interface DurableObjectId {
  toString(): string;
}

export interface DurableObjectStub {
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}

export interface RelayEnv {
  /** One RelayObject per serverId. */
  RELAY: DurableObjectNamespace;
  /** The one MetricsObject: relay-wide counters for /health and /metrics. */
  METRICS: DurableObjectNamespace;
  /** JSON of RelayLimitOptions (wrangler.toml [vars]); absent: the defaults of docs/protocol.md. */
  PASEO_RELAY_LIMITS?: string;
  /** "debug" | "info" | "warn" | "error": lowest level written to the Worker's log (console). Absent: "warn". */
  PASEO_RELAY_LOG?: string;
}

/** `new WebSocketPair()` gives the client end (returned in the 101 response) and the server end (kept). */
export function newWebSocketPair(): [WorkerSocket, WorkerSocket] {
  const Pair = (globalThis as unknown as { WebSocketPair: new () => Record<0 | 1, WorkerSocket> }).WebSocketPair;
  const pair = new Pair();
  return [pair[0], pair[1]];
}

/** The 101 response that hands `client` to the caller (workerd's ResponseInit has a `webSocket` field). */
export function upgradeResponse(client: WorkerSocket): Response {
  return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}

/** WebSocket.OPEN. */
export const OPEN = 1;
