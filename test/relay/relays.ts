/**
 * The relays under test: the Node relay (src/relay, in this process) and the Worker relay (src/relay-worker under
 * workerd via miniflare, scripts/relay-worker.js). The conformance suites run once per relay through
 * `describeRelays`; one miniflare instance serves a whole file (started on first use, disposed after the file);
 * each test's relayFor restarts its workerd with that test's limits (~150 ms), which also gives the test fresh
 * Durable Objects and counters.
 *
 * Where the two genuinely differ, the test says so with the reason (`caps`), never by skipping silently.
 */
import { afterAll, beforeAll, describe } from "vitest";
import type { RelayEndpoint } from "../../src/protocol/relay-url.js";
import type { RelayStats } from "../../src/protocol/relay/metrics.js";
import { type RelayOptions, startRelay } from "../../src/relay/index.js";
// @ts-expect-error plain JS launcher shared with `npm run relay:worker` and the bench
import { startWorkerRelay } from "../../scripts/relay-worker.js";
import { nativeBackend } from "../../src/protocol/crypto/native.js";

export type RelayKind = "node" | "worker";
export const RELAY_KINDS: RelayKind[] = ["node", "worker"];

/** What a relay can do on its runtime (src/protocol/relay/socket.ts explains each fallback). */
export interface RelayCaps {
  /** It sees each socket's outbound buffer: PAUSE to the daemon, 4006 over the cap, held clients. workerd: no. */
  outboundBuffer: boolean;
  /** It can stop reading a socket (TCP backpressure onto the sender). workerd: no — it queues (bounded) instead. */
  readHolds: boolean;
  /** It sends WebSocket pings (half-open detection). workerd: no — Cloudflare's edge does. */
  pings: boolean;
  /** close() ends every socket with 4009. A Worker is stopped by Cloudflare (deploys), not by the relay. */
  gracefulClose: boolean;
}

export const CAPS: Record<RelayKind, RelayCaps> = {
  node: { outboundBuffer: true, readHolds: true, pings: true, gracefulClose: true },
  worker: { outboundBuffer: false, readHolds: false, pings: false, gracefulClose: false },
};

export interface RelayUnderTest {
  readonly kind: RelayKind;
  readonly url: string;
  readonly port: number;
  readonly wsUrlBase: string;
  readonly endpoint: RelayEndpoint;
  /** The relay's counters (the Worker's arrive batched, ~100 ms late: poll). */
  stats(): Promise<RelayStats>;
  close(): Promise<void>;
}

let current: RelayKind = "node";

export function currentRelayKind(): RelayKind {
  return current;
}

/** Runs `body` once per relay kind, in a describe named after it. */
export function describeRelays(name: string, body: (kind: RelayKind, caps: RelayCaps) => void): void {
  describe.each(RELAY_KINDS)(`${name} (%s relay)`, (kind) => {
    beforeAll(() => {
      current = kind;
    });
    afterAll(async () => {
      current = "node"; // plain describes after this one test the Node relay
      if (kind === "worker") await disposeWorker();
    });
    body(kind, CAPS[kind]);
  });
}

interface WorkerRelay {
  url: string;
  port: number;
  wsUrlBase: string;
  endpoint: RelayEndpoint;
  mf: { getDurableObjectNamespace(name: string): Promise<WorkerNamespace> };
  setLimits(limits: object): Promise<void>;
  close(): Promise<void>;
}
interface WorkerNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(url: string): Promise<Response> };
}

let worker: WorkerRelay | undefined;

async function disposeWorker(): Promise<void> {
  await worker?.close();
  worker = undefined;
}

const NODE_ONLY: Array<keyof RelayOptions> = [
  "host",
  "port",
  "publicUrl",
  "serveApp",
  "staticDir",
  "trustForwardedFor",
];

export async function startRelayUnderTest(options: RelayOptions): Promise<RelayUnderTest> {
  if (current === "node") {
    const relay = await startRelay({ backend: nativeBackend, ...options });
    return {
      kind: "node",
      url: relay.url,
      port: relay.port,
      wsUrlBase: relay.wsUrlBase,
      endpoint: relay.endpoint,
      stats: async () => relay.stats(),
      close: () => relay.close(),
    };
  }
  const { backend: _b, log: _l, ...limits } = options;
  for (const key of NODE_ONLY)
    if (key in limits) throw new Error(`${key} is a Node relay option; the Worker relay has no such setting`);
  if (!worker) worker = (await startWorkerRelay({ limits, log: "error" })) as WorkerRelay;
  else await worker.setLimits(limits); // also fresh Durable Objects and counters: no state leaks between tests
  const w = worker;
  return {
    kind: "worker",
    url: w.url,
    port: w.port,
    wsUrlBase: w.wsUrlBase,
    endpoint: w.endpoint,
    stats: async () => {
      const ns = await w.mf.getDurableObjectNamespace("METRICS");
      return (await (await ns.get(ns.idFromName("metrics")).fetch("https://metrics/stats")).json()) as RelayStats;
    },
    close: async () => {}, // the file's workerd stays up; the next relayFor reloads it
  };
}
