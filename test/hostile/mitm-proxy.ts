/**
 * A malicious relay, built as a man-in-the-middle in front of the real one: a `ws` server on 127.0.0.1 that
 * accepts `/v1/ws?role=…&serverId=…` (either role), opens the matching upstream connection to the real relay and
 * forwards every WebSocket message through a per-frame hook that can tamper, drop, replace, duplicate, delay,
 * hold (for reordering), reflect, or inject. Every frame is recorded so a test can replay it later, on the same
 * connection or on a new one.
 *
 * Directions: "up" = from the peer that connected to the proxy (a client or a daemon) toward the relay;
 * "down" = from the relay toward that peer.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import type { RelayEndpoint } from "../../src/protocol/relay-url.js";

export type Direction = "up" | "down";

export interface Frame {
  conn: ProxyConn;
  dir: Direction;
  /** Per connection and direction, 0-based. */
  index: number;
  data: Buffer;
  isBinary: boolean;
}

export type Action =
  | "forward"
  | "drop"
  /** Keep the frame aside; a later "release" (or conn.releaseHeld) sends it after that frame. */
  | "hold"
  /** Forward this frame, then every held frame of this direction (reorders them). */
  | "release"
  /** Send the frame back to where it came from instead of forwarding it. */
  | "reflect"
  | { replace: Uint8Array | Uint8Array[] | string }
  | { duplicate: number }
  /** Order-preserving delay: later frames of this direction wait behind this one. */
  | { delay: number };

export type Hook = (frame: Frame) => Action | undefined;

export interface ProxyConn {
  readonly id: number;
  readonly role: string;
  readonly serverId: string;
  readonly frames: { dir: Direction; index: number; data: Buffer }[];
  readonly downstream: WebSocket;
  upstream: WebSocket | undefined;
  /** Close codes seen by each end (what the relay sent us, what the peer sent us). */
  closedByRelay: { code: number; reason: string } | undefined;
  closedByPeer: { code: number; reason: string } | undefined;
  /** Inject bytes as if they came from the other side. */
  toPeer(data: Uint8Array | string): void;
  toRelay(data: Uint8Array | string): void;
  /** Drop both TCP connections without close frames. */
  sever(): void;
  closed: Promise<void>;
}

export interface MitmProxy {
  readonly endpoint: RelayEndpoint;
  readonly conns: ProxyConn[];
  hook: Hook;
  /** Resolves with the next connection accepted (or one already accepted after `since`). */
  nextConn(since?: number, timeoutMs?: number): Promise<ProxyConn>;
  close(): Promise<void>;
}

export async function startMitm(target: RelayEndpoint, hook: Hook = () => "forward"): Promise<MitmProxy> {
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  const conns: ProxyConn[] = [];
  const connWaiters: (() => void)[] = [];
  let nextId = 0;

  const proxy: MitmProxy = {
    endpoint: { endpoint: "", tls: false },
    conns,
    hook,
    nextConn(since = conns.length, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (conns.length > since) {
            clearTimeout(timer);
            resolve(conns[since]!);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error("proxy: no connection")), timeoutMs);
        if (!check()) connWaiters.push(() => void check());
      });
    },
    async close() {
      for (const c of conns) c.sever();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };

  http.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (down) => {
      const url = new URL(req.url ?? "/", "http://proxy.invalid");
      const up = new WebSocket(`ws://${target.endpoint}${url.pathname}${url.search}`, {
        perMessageDeflate: false,
        maxPayload: 64 * 1024 * 1024,
      });
      const pending: { data: Buffer | string; binary: boolean }[] = [];
      const held: Record<Direction, Buffer[]> = { up: [], down: [] };
      const chain: Record<Direction, Promise<void>> = { up: Promise.resolve(), down: Promise.resolve() };
      const counters: Record<Direction, number> = { up: 0, down: 0 };
      let resolveClosed!: () => void;
      const conn: ProxyConn = {
        id: nextId++,
        role: url.searchParams.get("role") ?? "",
        serverId: url.searchParams.get("serverId") ?? "",
        frames: [],
        downstream: down,
        upstream: up,
        closedByRelay: undefined,
        closedByPeer: undefined,
        toPeer: (data) => sendTo(down, data),
        toRelay: (data) => sendUp(data),
        sever() {
          down.terminate();
          up.terminate();
        },
        closed: new Promise((r) => (resolveClosed = r)),
      };
      conns.push(conn);
      for (const w of connWaiters.splice(0)) w();

      function sendTo(ws: WebSocket, data: Uint8Array | string): void {
        if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: typeof data !== "string" });
      }
      function sendUp(data: Uint8Array | string): void {
        if (up.readyState === WebSocket.CONNECTING)
          pending.push({ data: typeof data === "string" ? data : Buffer.from(data), binary: typeof data !== "string" });
        else sendTo(up, data);
      }
      const forwardTo = (dir: Direction) => (dir === "up" ? sendUp : (d: Uint8Array | string) => sendTo(down, d));
      const backTo = (dir: Direction) => (dir === "up" ? (d: Uint8Array | string) => sendTo(down, d) : sendUp);

      const onFrame = (dir: Direction, raw: Buffer, isBinary: boolean) => {
        const index = counters[dir]++;
        const data = Buffer.from(raw);
        conn.frames.push({ dir, index, data });
        let action: Action | undefined;
        try {
          action = proxy.hook({ conn, dir, index, data, isBinary });
        } catch {
          action = "forward";
        }
        action ??= "forward";
        const payload: Uint8Array | string = isBinary ? data : data.toString("utf8");
        // Every direction is a serial queue so that an order-preserving delay holds later frames back.
        chain[dir] = chain[dir].then(async () => {
          const send = forwardTo(dir);
          if (action === "forward") send(payload);
          else if (action === "drop") return;
          else if (action === "hold") held[dir].push(data);
          else if (action === "release") {
            send(payload);
            for (const h of held[dir].splice(0)) send(h);
          } else if (action === "reflect") backTo(dir)(payload);
          else if ("replace" in action) {
            const list = Array.isArray(action.replace) ? action.replace : [action.replace];
            for (const r of list) send(r as Uint8Array | string);
          } else if ("duplicate" in action) {
            for (let i = 0; i <= action.duplicate; i++) send(payload);
          } else if ("delay" in action) {
            await new Promise((r) => setTimeout(r, action.delay));
            send(payload);
          }
        });
      };

      down.on("message", (d: Buffer, b) => onFrame("up", d, b));
      up.on("message", (d: Buffer, b) => onFrame("down", d, b));
      up.on("open", () => {
        for (const p of pending.splice(0)) up.send(p.data, { binary: p.binary });
      });
      const closeWith = (ws: WebSocket, code: number, reason: string) => {
        if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
        // 1005/1006 cannot be sent on the wire: mirror an abnormal close as an abrupt one.
        if (code === 1005 || code === 1006 || ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      };
      let ended = 0;
      const onEnd = () => {
        if (++ended === 2) resolveClosed();
      };
      up.on("close", (code, reason) => {
        conn.closedByRelay = { code, reason: reason.toString() };
        // Let queued frames of the down direction go first (the relay's last messages precede its close).
        void chain.down.then(() => closeWith(down, code, reason.toString()));
        onEnd();
      });
      down.on("close", (code, reason) => {
        conn.closedByPeer = { code, reason: reason.toString() };
        void chain.up.then(() => closeWith(up, code, reason.toString()));
        onEnd();
      });
      up.on("error", () => {});
      down.on("error", () => {});
    });
  });

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const port = (http.address() as AddressInfo).port;
  (proxy as { endpoint: RelayEndpoint }).endpoint = { endpoint: `127.0.0.1:${port}`, tls: false };
  return proxy;
}

/** Flip one bit of a copy of `data` (default: a bit in the middle, i.e. inside ciphertext or tag). */
export function flipBit(data: Uint8Array, byte = Math.floor(data.length / 2), bit = 0): Uint8Array {
  const out = new Uint8Array(data);
  out[byte] = out[byte]! ^ (1 << bit);
  return out;
}
