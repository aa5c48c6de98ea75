/**
 * Section 2: CPU cost of the protocol pieces, in this process, with nothing else running in it.
 *   - handshake CPU per side (ClientHandshake.hello + readReply / parseHello + ServerHandshake.readHello + reply)
 *     for the noble and native backends;
 *   - one X25519 per backend next to tweetnacl's pure-JS scalarMult (the anchor's key agreement);
 *   - AEAD throughput (ChaCha20-Poly1305 seal / open) for 200 B, 4 KiB and 64 KiB per backend next to raw
 *     node:crypto chacha20-poly1305 and to the reference framing (tweetnacl secretbox + base64);
 *   - SecureChannel encrypt+decrypt of 64 KiB application messages (what section 3 pushes through the relay).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { nobleBackend } from "../dist/protocol/crypto/noble.js";
import { nativeBackend } from "../dist/protocol/crypto/native.js";
import { ClientHandshake, ServerHandshake, parseHello } from "../dist/protocol/handshake.js";
import { MessageType } from "../dist/protocol/frame.js";
import { deriveServerId } from "../dist/protocol/server-id.js";
import { refDh, refKeyPair, refOpen, refSeal } from "./reference.js";
import { summarize } from "./lib.js";

const enc = new TextEncoder();

/** Wall time of fn() per call in ms, `n` samples after `warm` warm-up calls. */
function sampleMs(n, warm, fn) {
  for (let i = 0; i < warm; i++) fn();
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    out[i] = performance.now() - t0;
  }
  return out;
}

/** One full handshake, timed per side. Returns { client, server } in ms. */
function handshakeOnce(backend, fx) {
  const welcome = { type: MessageType.CONTROL, body: fx.welcome };
  const early = { type: MessageType.CONTROL, body: fx.early };
  const t0 = performance.now();
  const ch = new ClientHandshake({
    backend,
    serverId: fx.serverId,
    daemonPublicKey: fx.staticKey.publicKey,
    offerId: fx.offerId,
    psk: fx.psk,
  });
  const hello = ch.hello(early);
  const t1 = performance.now();
  const parsed = parseHello(hello);
  const sh = new ServerHandshake({
    backend,
    serverId: fx.serverId,
    staticKey: fx.staticKey,
    offerId: parsed.offerId,
    psk: fx.psk,
  });
  sh.readHello(parsed.noiseMessage);
  const { message } = sh.reply(welcome);
  const t2 = performance.now();
  ch.readReply(message);
  const t3 = performance.now();
  return { client: t1 - t0 + (t3 - t2), server: t2 - t1 };
}

function fixture(backend) {
  const staticKey = backend.generateKeyPair();
  return {
    staticKey,
    serverId: deriveServerId(backend, staticKey.publicKey),
    offerId: backend.randomBytes(12),
    psk: backend.randomBytes(32),
    // Realistic payloads: an early `agents.list` request and a welcome with a ServerInfo-sized body.
    early: enc.encode(JSON.stringify({ t: "req", id: 0, method: "agents.list", params: {} })),
    welcome: enc.encode(
      JSON.stringify({ t: "welcome", server: { serverId: "x".repeat(26), hostname: "bench", pad: "y".repeat(400) } }),
    ),
  };
}

export function benchHandshake(backend, n) {
  const fx = fixture(backend);
  for (let i = 0; i < Math.min(20, n); i++) handshakeOnce(backend, fx); // warm-up (JIT, key caches)
  const client = new Float64Array(n);
  const server = new Float64Array(n);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = handshakeOnce(backend, fx);
    client[i] = r.client;
    server[i] = r.server;
  }
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  return {
    backend: backend.name,
    client: summarize(client),
    server: summarize(server),
    // CPU time over the whole loop (both sides), as a cross-check that the wall-clock figures are CPU-bound.
    cpuPerHandshakeMs: (cpu.user + cpu.system) / 1000 / n,
    wallPerHandshakeMs: wall / n,
  };
}

export function benchDh(n) {
  const out = {};
  for (const backend of [nativeBackend, nobleBackend]) {
    const a = backend.generateKeyPair();
    const b = backend.generateKeyPair();
    out[backend.name] = summarize(sampleMs(n, 10, () => backend.dh(a.secretKey, b.publicKey)));
    // A fresh ephemeral per handshake: key generation is part of every handshake on both sides.
    out[`${backend.name}Keygen`] = summarize(sampleMs(n, 10, () => backend.generateKeyPair()));
  }
  const x = refKeyPair();
  const y = refKeyPair();
  out.tweetnacl = summarize(sampleMs(Math.max(20, Math.floor(n / 4)), 3, () => refDh(x.secretKey, y.publicKey)));
  return out;
}

/**
 * MB/s of each function of `fns` over `bytes`-sized inputs. Each is calibrated to ~budgetMs per batch, then the
 * batches are interleaved (rep 1 of every function, rep 2 of every function, …) so that background noise on a
 * shared machine hits all of them alike; the median of the reps is reported.
 */
function compare(bytes, budgetMs, reps, fns) {
  const calls = {};
  for (const [name, fn] of Object.entries(fns)) {
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      const dt = performance.now() - t0;
      if (dt > budgetMs / 8) {
        calls[name] = Math.max(1, Math.round((n * budgetMs) / dt));
        break;
      }
      n *= 2;
    }
  }
  const rates = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of Object.entries(fns)) {
      const n = calls[name];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      const dt = performance.now() - t0;
      rates[name].push((bytes * n) / 1e6 / (dt / 1000));
    }
  }
  return Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, summarize(v)]));
}

function rawSeal(key, nonce, pt) {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  const out = c.update(pt);
  c.final();
  return [out, c.getAuthTag()];
}

function rawOpen(key, nonce, ct, tag) {
  const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  d.setAuthTag(tag);
  const out = d.update(ct);
  d.final();
  return out;
}

export function benchAead({ budgetMs, reps }) {
  const sizes = [200, 4096, 65536];
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const ad = new Uint8Array(0);
  const refKey = randomBytes(32);
  const results = {};
  for (const size of sizes) {
    const pt = randomBytes(size);
    const [rct, rtag] = rawSeal(key, nonce, pt);
    const nct = nativeBackend.encrypt(key, nonce, ad, pt);
    const bct = nobleBackend.encrypt(key, nonce, ad, pt);
    const wire = refSeal(refKey, pt);
    const seal = compare(size, budgetMs, reps, {
      raw: () => rawSeal(key, nonce, pt),
      native: () => nativeBackend.encrypt(key, nonce, ad, pt),
      noble: () => nobleBackend.encrypt(key, nonce, ad, pt),
      reference: () => refSeal(refKey, pt),
    });
    const open = compare(size, budgetMs, reps, {
      raw: () => rawOpen(key, nonce, rct, rtag),
      native: () => nativeBackend.decrypt(key, nonce, ad, nct),
      noble: () => nobleBackend.decrypt(key, nonce, ad, bct),
      reference: () => refOpen(refKey, wire),
    });
    results[size] = Object.fromEntries(Object.keys(seal).map((k) => [k, { seal: seal[k], open: open[k] }]));
  }
  return results;
}

function channelPair() {
  const backend = nativeBackend;
  const fx = fixture(backend);
  const big = 64 << 20;
  const ch = new ClientHandshake({
    backend,
    serverId: fx.serverId,
    daemonPublicKey: fx.staticKey.publicKey,
    offerId: fx.offerId,
    psk: fx.psk,
    channel: { maxOutgoingMessage: big },
  });
  const hello = parseHello(ch.hello());
  const sh = new ServerHandshake({
    backend,
    serverId: fx.serverId,
    staticKey: fx.staticKey,
    offerId: hello.offerId,
    psk: fx.psk,
    channel: { maxIncomingMessage: big },
  });
  sh.readHello(hello.noiseMessage);
  const { message, channel: server } = sh.reply({ type: MessageType.CONTROL, body: fx.welcome });
  const { channel: client } = ch.readReply(message);
  return { client, server };
}

/** SecureChannel (native) with `size`-byte application messages: encrypt alone, and encrypt → decrypt. MB/s. */
export function benchChannel({ budgetMs, reps, size = 65536 }) {
  const msg = { type: MessageType.STREAM, body: randomBytes(size) };
  const a = channelPair();
  const b = channelPair();
  return compare(size, budgetMs, reps, {
    encrypt: () => a.client.encrypt(msg),
    encryptDecrypt: () => {
      let out;
      for (const m of b.client.encrypt(msg)) out = b.server.decrypt(m);
      if (!out) throw new Error("channel: no message");
    },
  });
}

/**
 * The anchor's headline figure, reproduced in-run: a 1 MiB message sealed and opened again (no network), MB/s of
 * plaintext. Reference = tweetnacl secretbox + base64; paseo = SecureChannel encrypt → decrypt (native).
 */
export function benchRoundTrip1MiB({ budgetMs, reps }) {
  const size = 1 << 20;
  const body = randomBytes(size);
  const msg = { type: MessageType.STREAM, body };
  const pair = channelPair();
  const refKey = randomBytes(32);
  return compare(size, Math.max(budgetMs, 60), reps, {
    paseo: () => {
      let out;
      for (const m of pair.client.encrypt(msg)) out = pair.server.decrypt(m);
      if (!out || out.body.length !== size) throw new Error("channel: no message");
    },
    reference: () => {
      if (refOpen(refKey, refSeal(refKey, body)).length !== size) throw new Error("reference: bad length");
    },
  });
}
