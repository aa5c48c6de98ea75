/**
 * Bench peers for the stream-throughput test (section 3). Everything is the real protocol from dist/:
 *
 *   peer (a separate process: `node bench/peers.js serve --relay ws://127.0.0.1:PORT`)
 *     registers on the real relay as role=server with proof of possession (relay-auth answerChallenge), speaks the
 *     relay-mux codec, and for each client:
 *       paseo  — hello → ServerHandshake → SecureChannel; decrypts every message and counts plaintext bytes
 *       plain  — counts raw bytes (the physical limit of the same relay path: no crypto at all)
 *       ref    — base64-decodes and tweetnacl-opens each message (the reference framing), counts plaintext bytes
 *     and answers one small ack once the announced total has arrived.
 *
 *   clients (in the bench process, over a `ws` socket through the same relay): streamPaseo / streamPlain / streamRef.
 *
 * The mode is chosen by the client's first message: a paseo hello starts with the version byte 0x01, the other two
 * start with a JSON header "{...}".
 */
import { WebSocket } from "ws";
import { fileURLToPath } from "node:url";
import { nativeBackend } from "../dist/protocol/crypto/native.js";
import { ClientHandshake, ServerHandshake, parseHello } from "../dist/protocol/handshake.js";
import { MessageType } from "../dist/protocol/frame.js";
import { answerChallenge } from "../dist/protocol/relay-auth.js";
import { decodeMux, encodeData } from "../dist/protocol/relay-mux.js";
import { deriveServerId } from "../dist/protocol/server-id.js";
import { buildRelayUrl } from "../dist/protocol/relay-url.js";
import { fromBase64Url, toBase64Url } from "../dist/protocol/encoding.js";
import { refOpen, refSeal, REF_KEY_BYTES } from "./reference.js";
import { pump } from "./lib.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------------------------------------------
// Peer (daemon side)

function runPeer(relayBase) {
  const backend = nativeBackend;
  const staticKey = backend.generateKeyPair();
  const serverId = deriveServerId(backend, staticKey.publicKey);
  const offerId = backend.randomBytes(12);
  const psk = backend.randomBytes(32);
  const refKey = backend.randomBytes(REF_KEY_BYTES);
  const url = buildRelayUrl({ endpoint: relayBase.replace(/^ws:\/\//, ""), tls: false }, "server", serverId);
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 4 << 20 });
  ws.binaryType = "nodebuffer";
  const clients = new Map();
  const send = (clientId, bytes) => ws.send(encodeData(clientId, bytes));

  ws.on("message", (data) => {
    const msg = decodeMux(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    switch (msg.type) {
      case "challenge":
        ws.send(answerChallenge(backend, staticKey, serverId, new Uint8Array(data)));
        return;
      case "ready":
        process.stdout.write(
          `PEER READY ${JSON.stringify({
            serverId,
            publicKeyB64: toBase64Url(staticKey.publicKey),
            offerIdB64: toBase64Url(offerId),
            pskB64: toBase64Url(psk),
            refKeyB64: toBase64Url(refKey),
          })}\n`,
        );
        return;
      case "open":
        clients.set(msg.clientId, { mode: undefined, total: 0, got: 0, channel: undefined });
        return;
      case "close":
        clients.delete(msg.clientId);
        return;
      case "pause":
      case "resume":
        return; // the peer only ever sends tiny acks
      case "data": {
        const c = clients.get(msg.clientId);
        if (!c) return;
        onClientData(msg.clientId, c, msg.payload);
        return;
      }
    }
  });
  ws.on("close", (code) => {
    process.stderr.write(`peer: relay socket closed ${code}\n`);
    process.exit(code === 1000 ? 0 : 1);
  });
  ws.on("error", (err) => process.stderr.write(`peer: ${err.message}\n`));

  function finishIfDone(clientId, c) {
    if (c.total > 0 && c.got >= c.total) {
      const ack = enc.encode(JSON.stringify({ done: c.got }));
      if (c.mode === "paseo")
        for (const m of c.channel.encrypt({ type: MessageType.CONTROL, body: ack })) send(clientId, m);
      else send(clientId, ack);
      c.total = 0;
      c.got = 0;
    }
  }

  function onClientData(clientId, c, payload) {
    if (c.mode === undefined) {
      if (payload[0] === 0x01) {
        const hello = parseHello(payload);
        const hs = new ServerHandshake({
          backend,
          serverId,
          staticKey,
          offerId: hello.offerId,
          psk,
          channel: { maxIncomingMessage: 64 << 20 },
        });
        hs.readHello(hello.noiseMessage);
        const { message, channel } = hs.reply({ type: MessageType.CONTROL, body: enc.encode('{"t":"welcome"}') });
        c.mode = "paseo";
        c.channel = channel;
        send(clientId, message);
        return;
      }
      const header = JSON.parse(dec.decode(payload));
      c.mode = header.mode;
      c.total = header.total;
      send(clientId, enc.encode('{"ok":true}'));
      return;
    }
    if (c.mode === "paseo") {
      const m = c.channel.decrypt(payload);
      if (!m) return;
      if (m.type === MessageType.CONTROL) c.total = JSON.parse(dec.decode(m.body)).total;
      else c.got += m.body.length;
    } else if (c.mode === "plain") {
      c.got += payload.length;
    } else if (c.mode === "ref") {
      c.got += refOpen(refKey, payload).length;
    }
    finishIfDone(clientId, c);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Clients (bench side)

function openSocket(url) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 4 << 20 });
    ws.binaryType = "nodebuffer";
    ws.once("open", () => res(ws));
    ws.once("error", rej);
    ws.once("close", (code) => rej(new Error(`closed ${code} before open`)));
  });
}

function nextMessage(ws) {
  return new Promise((res, rej) => {
    const onMsg = (data) => {
      cleanup();
      res(data);
    };
    const onClose = (code, reason) => {
      cleanup();
      rej(new Error(`socket closed ${code} ${reason}`));
    };
    const cleanup = () => {
      ws.off("message", onMsg);
      ws.off("close", onClose);
    };
    ws.on("message", onMsg);
    ws.on("close", onClose);
  });
}

function clientUrl(relayBase, info) {
  return buildRelayUrl({ endpoint: relayBase.replace(/^ws:\/\//, ""), tls: false }, "client", info.serverId);
}

/**
 * Stream `total` bytes in `msgBytes` application messages, return { ms, bytes, wireBytes }. The clock starts after
 * the handshake/header exchange and stops when the peer's ack (sent once it has decrypted everything) arrives.
 */
export async function streamPaseo(relayBase, info, total, msgBytes) {
  const ws = await openSocket(clientUrl(relayBase, info));
  try {
    const hs = new ClientHandshake({
      backend: nativeBackend,
      serverId: info.serverId,
      daemonPublicKey: fromBase64Url(info.publicKeyB64),
      offerId: fromBase64Url(info.offerIdB64),
      psk: fromBase64Url(info.pskB64),
      channel: { maxOutgoingMessage: 64 << 20 },
    });
    const replyP = nextMessage(ws);
    ws.send(hs.hello());
    const reply = await replyP;
    const { channel } = hs.readReply(new Uint8Array(reply));
    const body = new Uint8Array(msgBytes).fill(0x61);
    const count = Math.ceil(total / msgBytes);
    let wireBytes = 0;
    const ackP = nextMessage(ws);
    const t0 = performance.now();
    for (const m of channel.encrypt({
      type: MessageType.CONTROL,
      body: enc.encode(JSON.stringify({ total: count * msgBytes })),
    }))
      ws.send(m);
    await pump(ws, count, () => {
      const frames = channel.encrypt({ type: MessageType.STREAM, body });
      for (const f of frames) wireBytes += f.length;
      return frames;
    });
    const ack = channel.decrypt(new Uint8Array(await ackP));
    const ms = performance.now() - t0;
    const done = JSON.parse(dec.decode(ack.body)).done;
    if (done !== count * msgBytes) throw new Error(`paseo stream: peer got ${done} of ${count * msgBytes}`);
    return { ms, bytes: count * msgBytes, wireBytes };
  } finally {
    ws.close(1000);
  }
}

async function streamSimple(mode, relayBase, info, total, msgBytes) {
  const ws = await openSocket(clientUrl(relayBase, info));
  try {
    const count = Math.ceil(total / msgBytes);
    const okP = nextMessage(ws);
    ws.send(enc.encode(JSON.stringify({ mode, total: count * msgBytes })));
    await okP;
    const body = new Uint8Array(msgBytes).fill(0x61);
    const key = mode === "ref" ? fromBase64Url(info.refKeyB64) : undefined;
    let wireBytes = 0;
    const ackP = nextMessage(ws);
    const t0 = performance.now();
    await pump(ws, count, () => {
      const frame = mode === "ref" ? refSeal(key, body) : body;
      wireBytes += frame.length;
      return [frame];
    });
    const ack = await ackP;
    const ms = performance.now() - t0;
    const done = JSON.parse(dec.decode(ack)).done;
    if (done !== count * msgBytes) throw new Error(`${mode} stream: peer got ${done} of ${count * msgBytes}`);
    return { ms, bytes: count * msgBytes, wireBytes };
  } finally {
    ws.close(1000);
  }
}

export const streamPlain = (relayBase, info, total, msgBytes) =>
  streamSimple("plain", relayBase, info, total, msgBytes);
export const streamRef = (relayBase, info, total, msgBytes) => streamSimple("ref", relayBase, info, total, msgBytes);

// ---------------------------------------------------------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--relay");
  if (process.argv[2] !== "serve" || i < 0) {
    process.stderr.write("usage: node bench/peers.js serve --relay ws://HOST:PORT\n");
    process.exit(2);
  }
  runPeer(process.argv[i + 1]);
}
