/**
 * Section 8: devices (issue 16), side by side in one run on 127.0.0.1.
 *
 *   - handshake CPU per side (process.cpuUsage, native backend) of hello 0x02 (Noise_IK, an enrolled device) and
 *     0x03 (Noise_IKpsk1, enrollment), next to the bearer 0x01 (NKpsk0) — target ≤ 1 ms per side;
 *   - an enrolled device's `ls`: round trips from the socket opening to the answer (target 1: the request rides in
 *     the IK hello) and the fresh-connection wall time next to a bearer offer's, through the same relay and daemon;
 *   - fleet: `paseo ls --hosts all` across 10 local daemons (saved hosts, one relay) vs `paseo ls --host h0` alone,
 *     CLI processes, alternating — target ≤ 1.5×.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DaemonClient } from "../dist/index.js";
import { nativeBackend as backend } from "../dist/protocol/crypto/native.js";
import { ClientHandshake, ServerHandshake } from "../dist/protocol/handshake.js";
import { DeviceClientHandshake, DeviceServerHandshake } from "../dist/protocol/handshake-device.js";
import { MessageType } from "../dist/protocol/frame.js";
import { toBase64Url } from "../dist/protocol/encoding.js";
import { CLI, runNode, summarize } from "./lib.js";

const FLEET = 10;

function cpuUs(fn) {
  const t = process.cpuUsage();
  const r = fn();
  const d = process.cpuUsage(t);
  return [d.user + d.system, r];
}

/** CPU µs per side of `n` handshakes made by `make()` → { client, server } with hello/readHello/reply/readReply. */
function handshakeCpu(n, make) {
  const welcome = { type: MessageType.CONTROL, body: new TextEncoder().encode('{"t":"welcome"}') };
  let client = 0;
  let server = 0;
  for (let i = -50; i < n; i++) {
    const hs = make();
    const [c1, hello] = cpuUs(() => hs.client.hello());
    const [s1, reply] = cpuUs(() => {
      hs.serverRead(hello);
      return hs.server.reply(welcome);
    });
    const [c2] = cpuUs(() => hs.client.readReply(reply.message));
    if (i >= 0) {
      client += c1 + c2;
      server += s1;
    }
  }
  return { client: client / n / 1000, server: server / n / 1000 };
}

function sectionCpu({ quick, figure, ratio }) {
  const n = quick ? 200 : 1000;
  const serverId = "a".repeat(26);
  const daemon = backend.generateKeyPair();
  const device = backend.generateKeyPair();
  const offerId = backend.randomBytes(12);
  const psk = backend.randomBytes(32);
  const kinds = {
    bearer: () => {
      const client = new ClientHandshake({ backend, serverId, daemonPublicKey: daemon.publicKey, offerId, psk });
      const server = new ServerHandshake({ backend, serverId, staticKey: daemon, offerId, psk });
      return { client, server, serverRead: (h) => server.readHello(h.subarray(13)) };
    },
    device: () => {
      const client = new DeviceClientHandshake({
        backend,
        serverId,
        daemonPublicKey: daemon.publicKey,
        deviceKey: device,
      });
      const server = new DeviceServerHandshake({ backend, serverId, staticKey: daemon });
      return { client, server, serverRead: (h) => (server.readHello(h.subarray(1)), server.deviceKey()) };
    },
    enroll: () => {
      const enroll = { offerId, psk };
      const client = new DeviceClientHandshake({
        backend,
        serverId,
        daemonPublicKey: daemon.publicKey,
        deviceKey: device,
        enroll,
      });
      const server = new DeviceServerHandshake({ backend, serverId, staticKey: daemon, enroll });
      return { client, server, serverRead: (h) => (server.readHello(h.subarray(13)), server.deviceKey()) };
    },
  };
  const label = {
    bearer: "0x01 NKpsk0 (bearer)",
    device: "0x02 IK (enrolled device)",
    enroll: "0x03 IKpsk1 (enrollment)",
  };
  for (const [kind, make] of Object.entries(kinds)) {
    const r = handshakeCpu(n, make);
    const one = (ms) => ({ n, median: ms, p99: ms });
    figure(`dev.cpu.${kind}.client`, `handshake CPU, client side, ${label[kind]}`, "ms", one(r.client));
    figure(`dev.cpu.${kind}.daemon`, `handshake CPU, daemon side, ${label[kind]}`, "ms", one(r.server));
  }
  for (const side of ["client", "daemon"])
    ratio(
      `dev.cpu.${side}`,
      `0x02 device handshake CPU (${side}) vs 1 ms budget`,
      `dev.cpu.device.${side}`,
      {
        label: "1 ms",
        median: 1,
        p99: 1,
        unit: "ms",
      },
      { target: 1, op: "<=" },
    );
}

async function sectionLsDevice({
  quick,
  figure,
  ratio,
  log,
  startRelayProc,
  startDaemonProc,
  recordingWebSocket,
  countTurns,
}) {
  log("8: enrolled device ls vs bearer offer ls (fresh connections, same relay and daemon)");
  const relay = await startRelayProc();
  const daemon = await startDaemonProc(relay.base);
  try {
    const pair = await runNode([CLI, "daemon", "pair", "--json", "--no-qr", "--home", daemon.home]);
    const ticket = JSON.parse(pair.out.slice(pair.out.indexOf("{"))).offer;
    const deviceKeyB64 = toBase64Url(backend.generateKeyPair().secretKey);
    const enroller = new DaemonClient({ offer: ticket, enroll: { deviceKeyB64 } });
    await enroller.listAgents();
    enroller.close();
    const credential = {
      serverId: ticket.serverId,
      daemonPublicKeyB64: ticket.daemonPublicKeyB64,
      relay: ticket.relay,
      deviceKeyB64,
    };
    const n = quick ? 100 : 300;
    const times = { device: [], bearer: [] };
    const turns = [];
    for (let i = -10; i < n; i++) {
      for (const kind of i % 2 === 0 ? ["device", "bearer"] : ["bearer", "device"]) {
        const recs = [];
        const opts = kind === "device" ? { device: credential } : { offer: daemon.relayOffer };
        const client = new DaemonClient({ ...opts, WebSocket: recordingWebSocket(recs), connectTimeoutMs: 10_000 });
        const t0 = performance.now();
        await client.listAgents();
        const t1 = performance.now();
        client.close();
        if (i < 0) continue;
        times[kind].push(t1 - t0);
        if (kind === "device") turns.push(countTurns(recs[0].events, t1));
      }
    }
    const rt = summarize(turns);
    figure("dev.ls.rt", "enrolled device ls: round trips, socket open → answer", "RT", rt, { max: rt.max });
    figure("dev.ls.device", "ls, fresh connection, enrolled device (0x02)", "ms", summarize(times.device));
    figure("dev.ls.bearer", "ls, fresh connection, bearer offer (0x01)", "ms", summarize(times.bearer));
    ratio(
      "dev.ls.rt",
      "enrolled device ls round trips (max) vs 1",
      { label: "1 RT", median: rt.max, p99: rt.max, unit: "RT" },
      { label: "1", median: 1, p99: 1, unit: "RT" },
      { target: 1, op: "<=" },
    );
    ratio("dev.ls.vs.bearer", "ls wall time: enrolled device vs bearer offer", "dev.ls.device", "dev.ls.bearer", {});
  } finally {
    await daemon.stop();
    await relay.stop();
  }
}

async function sectionFleet({ quick, figure, ratio, log, startRelayProc, startDaemonProc }) {
  log(`8: fleet ls across ${FLEET} daemons vs one`);
  const relay = await startRelayProc();
  const daemons = [];
  const config = mkdtempSync(join(tmpdir(), "paseo-bench-config-"));
  const env = { PASEO_CONFIG: config };
  try {
    for (let i = 0; i < FLEET; i++) daemons.push(await startDaemonProc(relay.base));
    for (const [i, d] of daemons.entries()) {
      const pair = await runNode([CLI, "daemon", "pair", "--json", "--no-qr", "--home", d.home]);
      const link = JSON.parse(pair.out.slice(pair.out.indexOf("{"))).link;
      const add = await runNode([CLI, "hosts", "add", `h${i}`, link], { env });
      if (add.code !== 0) throw new Error(`hosts add h${i} failed: ${add.out}`);
    }
    const runs = quick ? 10 : 30;
    const one = [];
    const all = [];
    for (let i = -2; i < runs; i++) {
      for (const which of i % 2 === 0 ? ["one", "all"] : ["all", "one"]) {
        const args = which === "one" ? ["ls", "--host", "h0"] : ["ls", "--hosts", "all"];
        const r = await runNode([CLI, ...args], { env });
        if (r.code !== 0) throw new Error(`paseo ${args.join(" ")} failed: ${r.out}`);
        if (which === "all" && (r.out.match(/^== h\d+ \(/gm) ?? []).length !== FLEET)
          throw new Error(`ls --hosts all did not list ${FLEET} hosts:\n${r.out}`);
        if (i >= 0) (which === "one" ? one : all).push(r.ms);
      }
    }
    figure("dev.fleet.one", "paseo ls --host h0 (CLI process wall time)", "ms", summarize(one));
    figure("dev.fleet.all", `paseo ls --hosts all, ${FLEET} daemons (CLI process wall time)`, "ms", summarize(all));
    ratio("dev.fleet", `fleet ls across ${FLEET} daemons vs a single ls`, "dev.fleet.all", "dev.fleet.one", {
      target: 1.5,
      op: "<=",
    });
  } finally {
    for (const d of daemons) await d.stop();
    await relay.stop();
  }
}

export async function sectionDevices(ctx) {
  ctx.log("8: devices — handshake CPU");
  sectionCpu(ctx);
  await sectionLsDevice(ctx);
  await sectionFleet(ctx);
}
