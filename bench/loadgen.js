/**
 * Load generator for the relay-capacity test (section 4). Runs as its own process so that the relay's figures are
 * not mixed with the load's:
 *
 *   node bench/loadgen.js        — forked by bench/run.js, driven over IPC ({ id, cmd, ... } → { id, ok, result })
 *   node bench/loadgen.js echo   — a plain `ws` echo server on 127.0.0.1 (the baseline for forwarding latency)
 *
 * Daemons are real protocol peers: each has its own X25519 key (native backend), connects as role=server and
 * answers the relay's proof-of-possession challenge (relay-auth answerChallenge) before it counts as registered.
 * Clients connect as role=client to one daemon each (round robin) and stay idle; the relay announces each of them
 * to its daemon with an OPEN, which is how attachment is confirmed.
 */
import { WebSocket, WebSocketServer } from "ws";
import { nativeBackend } from "../dist/protocol/crypto/native.js";
import { answerChallenge } from "../dist/protocol/relay-auth.js";
import { decodeMux } from "../dist/protocol/relay-mux.js";
import { deriveServerId } from "../dist/protocol/server-id.js";
import { summarize } from "./lib.js";

const WS_OPTS = { perMessageDeflate: false, maxPayload: 1 << 20 };
const MAGIC = 0x70617365; // "pase"
const CONCURRENCY = 128;
const CONNECT_TIMEOUT_MS = 20_000;

if (process.argv[2] === "echo") {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, ...WS_OPTS });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  wss.on("listening", () => process.stdout.write(`ECHO PORT ${wss.address().port}\n`));
} else {
  runDriver();
}

function runDriver() {
  let relayBase = "";
  const daemons = []; // { serverId, keyPair, ws, opens, ready }
  const clients = []; // { ws, daemon }
  const closes = new Map(); // unexpected close code → count
  let latencySink; // (payload: Buffer) => void while a latency run is active
  let stopped = false;

  const noteClose = (code) => {
    if (stopped) return;
    closes.set(code, (closes.get(code) ?? 0) + 1);
  };

  function connectDaemon(d) {
    return new Promise((res, rej) => {
      const url = `${relayBase}/v1/ws?role=server&serverId=${d.serverId}`;
      const ws = new WebSocket(url, WS_OPTS);
      ws.binaryType = "nodebuffer";
      d.ws = ws;
      let settled = false;
      const timer = setTimeout(() => fail(new Error("daemon registration timed out")), CONNECT_TIMEOUT_MS);
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        rej(err);
      };
      ws.on("message", (data) => {
        let msg;
        try {
          msg = decodeMux(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        } catch (err) {
          return fail(err);
        }
        if (msg.type === "challenge")
          ws.send(answerChallenge(nativeBackend, d.keyPair, d.serverId, new Uint8Array(data)));
        else if (msg.type === "ready") {
          d.ready = true;
          settled = true;
          clearTimeout(timer);
          res();
        } else if (msg.type === "open") d.opens++;
        else if (msg.type === "close") d.opens--;
        else if (msg.type === "data" && latencySink) latencySink(msg.payload);
      });
      ws.on("error", (err) => fail(err));
      ws.on("close", (code) => {
        d.ready = false;
        noteClose(code);
        fail(new Error(`daemon socket closed ${code}`));
      });
    });
  }

  function connectClient(c) {
    return new Promise((res, rej) => {
      const ws = new WebSocket(`${relayBase}/v1/ws?role=client&serverId=${c.daemon.serverId}`, WS_OPTS);
      ws.binaryType = "nodebuffer";
      c.ws = ws;
      let settled = false;
      const timer = setTimeout(() => done(new Error("client connect timed out")), CONNECT_TIMEOUT_MS);
      const done = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) rej(err);
        else res();
      };
      ws.on("open", () => done());
      ws.on("error", (err) => done(err));
      ws.on("close", (code) => {
        noteClose(code);
        done(new Error(`client socket closed ${code}`));
      });
      ws.on("message", () => {});
    });
  }

  /** Run `fn` over `items` with at most CONCURRENCY in flight; returns { ok, failed, firstError }. */
  async function pool(items, fn) {
    let next = 0;
    let ok = 0;
    let failed = 0;
    let firstError;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await fn(item);
          ok++;
        } catch (err) {
          failed++;
          firstError ??= err.message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
    return { ok, failed, firstError };
  }

  const handlers = {
    init({ relay }) {
      relayBase = relay;
      return {};
    },

    async daemons({ count }) {
      const t0 = performance.now();
      const fresh = [];
      while (daemons.length < count) {
        const keyPair = nativeBackend.generateKeyPair();
        const d = {
          keyPair,
          serverId: deriveServerId(nativeBackend, keyPair.publicKey),
          ws: undefined,
          opens: 0,
          ready: false,
        };
        daemons.push(d);
        fresh.push(d);
      }
      const keysMs = performance.now() - t0;
      const r = await pool(fresh, connectDaemon);
      return { ...r, total: daemons.filter((d) => d.ready).length, keysMs, ms: performance.now() - t0 };
    },

    async clients({ count }) {
      const t0 = performance.now();
      const fresh = [];
      while (clients.length < count) {
        const c = { ws: undefined, daemon: daemons[clients.length % daemons.length] };
        clients.push(c);
        fresh.push(c);
      }
      const r = await pool(fresh, connectClient);
      // Attached = the daemon got an OPEN for it. Wait (bounded) until every open client is accounted for.
      const open = () => clients.filter((c) => c.ws?.readyState === WebSocket.OPEN).length;
      const opens = () => daemons.reduce((s, d) => s + d.opens, 0);
      const deadline = performance.now() + 10_000;
      while (opens() < open() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return { ...r, total: open(), attached: opens(), ms: performance.now() - t0 };
    },

    status() {
      return {
        daemonsReady: daemons.filter((d) => d.ready).length,
        clientsOpen: clients.filter((c) => c.ws?.readyState === WebSocket.OPEN).length,
        attached: daemons.reduce((s, d) => s + d.opens, 0),
        unexpectedCloses: Object.fromEntries(closes),
        rss: process.memoryUsage().rss,
      };
    },

    /**
     * Send `rate` small messages per second for `seconds`, spread over `senders` sockets, and measure one-way
     * latency: relay path = client → relay → daemon (both ends in this process, one clock); echo path =
     * client → echo process → same client. Both cross two loopback hops and one forwarding process.
     */
    async latency({ path, rate, seconds, senders, echoPort, size = 64 }) {
      let sockets;
      let extra = [];
      if (path === "relay") {
        // One sender per daemon where possible (client i is attached to daemon i % daemons).
        sockets = clients
          .slice(0, senders)
          .map((c) => c.ws)
          .filter((ws) => ws?.readyState === WebSocket.OPEN);
      } else {
        sockets = await Promise.all(
          Array.from(
            { length: senders },
            () =>
              new Promise((res, rej) => {
                const ws = new WebSocket(`ws://127.0.0.1:${echoPort}`, WS_OPTS);
                ws.binaryType = "nodebuffer";
                ws.once("open", () => res(ws));
                ws.once("error", rej);
              }),
          ),
        );
        extra = sockets;
      }
      if (sockets.length === 0) throw new Error("no open sender sockets");
      const samples = new Float64Array(Math.ceil(rate * seconds) + 16);
      let received = 0;
      const onPayload = (payload) => {
        const now = performance.now();
        if (payload.length < 12) return;
        const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
        if (view.getUint32(0) !== MAGIC) return;
        if (received < samples.length) samples[received] = now - view.getFloat64(4);
        received++;
      };
      if (path === "relay") latencySink = onPayload;
      else for (const ws of sockets) ws.on("message", onPayload);

      const total = Math.floor(rate * seconds);
      let sent = 0;
      const body = Buffer.alloc(size);
      body.writeUInt32BE(MAGIC, 0);
      const t0 = performance.now();
      await new Promise((res) => {
        const timer = setInterval(() => {
          const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
          while (sent < due) {
            const ws = sockets[sent % sockets.length];
            const msg = Buffer.from(body);
            msg.writeDoubleBE(performance.now(), 4);
            ws.send(msg, { binary: true });
            sent++;
          }
          if (sent >= total) {
            clearInterval(timer);
            res();
          }
        }, 1);
      });
      const sendMs = performance.now() - t0;
      const deadline = performance.now() + 2000;
      while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      latencySink = undefined;
      for (const ws of sockets) ws.off("message", onPayload);
      for (const ws of extra) ws.close();
      return {
        path,
        sent,
        received,
        achievedRate: sent / (sendMs / 1000),
        oneWayMs: summarize(samples.subarray(0, Math.min(received, samples.length))),
        samples: Array.from(samples.subarray(0, Math.min(received, samples.length))),
      };
    },

    async close() {
      stopped = true;
      for (const c of clients) c.ws?.terminate();
      for (const d of daemons) d.ws?.terminate();
      setTimeout(() => process.exit(0), 50);
      return {};
    },
  };

  process.on("message", async (msg) => {
    try {
      const result = await handlers[msg.cmd](msg);
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: err?.message ?? String(err) });
    }
  });
  process.on("disconnect", () => process.exit(0));
}
