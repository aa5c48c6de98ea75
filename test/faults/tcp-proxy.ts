/**
 * A TCP-level proxy on 127.0.0.1 that can make a path go dead without any close: `freeze()` stops forwarding bytes
 * in both directions on every open connection while keeping the sockets open (a pulled cable, a NAT that forgot
 * the flow, a peer that hung). With `blackhole` set, new connections are accepted and then ignored too.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  readonly port: number;
  readonly endpoint: string;
  /** Stop forwarding on all current connections (sockets stay open). */
  freeze(): void;
  /** New connections are accepted but nothing is forwarded (and nothing is dialled upstream). */
  blackhole: boolean;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<{ down: Socket; up?: Socket; frozen: boolean }>();
  let total = 0;
  const server: Server = createServer((down) => {
    total++;
    const pair: { down: Socket; up?: Socket; frozen: boolean } = { down, frozen: proxy.blackhole };
    pairs.add(pair);
    down.on("error", () => {});
    // A frozen path carries no FIN either: a close on one side never reaches the other.
    down.on("close", () => {
      pairs.delete(pair);
      if (!pair.frozen) pair.up?.destroy();
    });
    if (pair.frozen) return; // accept and ignore
    const up = connect(targetPort, targetHost);
    pair.up = up;
    up.on("error", () => {
      if (!pair.frozen) down.destroy();
    });
    up.on("close", () => {
      if (!pair.frozen) down.destroy();
    });
    down.on("data", (d) => {
      if (!pair.frozen) up.write(d);
    });
    up.on("data", (d) => {
      if (!pair.frozen) down.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  const proxy: TcpProxy = {
    port,
    endpoint: `127.0.0.1:${port}`,
    blackhole: false,
    get connections() {
      return total;
    },
    freeze() {
      for (const p of pairs) p.frozen = true;
    },
    async close() {
      for (const p of pairs) {
        p.down.destroy();
        p.up?.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}
