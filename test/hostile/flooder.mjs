// A flooding client, run as its own process so its CPU does not count against the daemon it attacks.
// argv: <url> <offer JSON> <mode: chunks|requests> <durationMs>. Prints "ready" once the handshake is done,
// then floods until the duration ends (or stdin closes) and prints "sent <n> closed <code|->".
import { WebSocket } from "ws";
import { ClientHandshake } from "../../dist/protocol/handshake.js";
import { fromBase64Url } from "../../dist/protocol/encoding.js";
import { nativeBackend } from "../../dist/protocol/crypto/native.js";
import { encodeControl } from "../../dist/protocol/rpc.js";

const [url, offerJson, mode, durationText] = process.argv.slice(2);
const offer = JSON.parse(offerJson);
const hs = new ClientHandshake({
  backend: nativeBackend,
  serverId: offer.serverId,
  daemonPublicKey: fromBase64Url(offer.daemonPublicKeyB64),
  offerId: fromBase64Url(offer.offerId),
  psk: fromBase64Url(offer.secretB64),
  channel: { maxChunkPlaintext: 16, maxOutgoingMessage: 64 << 20 },
});
const ws = new WebSocket(url, { perMessageDeflate: false });
let channel;
let closed = "-";
let sent = 0;
let received = 0;
ws.on("open", () => ws.send(hs.hello()));
ws.on("close", (code) => {
  closed = String(code);
});
ws.on("error", () => {});
ws.on("message", (data) => {
  if (channel) return void received++;
  channel = hs.readReply(new Uint8Array(data)).channel;
  // chunks: one 4 MiB message (the daemon's limit) in 16-byte chunks, ~260k frames, sent without its LAST chunk.
  if (mode === "chunks") frames = channel.encrypt({ type: 1, body: new Uint8Array(4 * 1024 * 1024 - 64) }).slice(0, -1).reverse();
  process.stdout.write("ready\n");
  void flood();
});
const done = () => {
  process.stdout.write(`sent ${sent} received ${received} closed ${closed}\n`);
  ws.terminate();
  process.exit(0);
};
process.stdin.on("end", done);
process.stdin.resume();
setTimeout(done, Number(durationText));

let frames = [];
async function flood() {
  let id = 1;
  for (;;) {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount < 64 * 1024) {
      for (let i = 0; i < 100; i++) {
        if (mode === "chunks") {
          if (frames.length === 0) return;
          ws.send(frames.pop());
        } else {
          for (const f of channel.encrypt({ type: 1, body: encodeControl({ t: "req", id: id++, method: "agents.list", params: {} }) })) ws.send(f);
        }
        sent++;
      }
    }
    await new Promise((r) => setImmediate(r));
  }
}
