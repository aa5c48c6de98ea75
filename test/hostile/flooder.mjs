// A flooding client, run as its own process so its CPU does not count against the daemon it attacks.
// argv: <url> <mode: chunks|requests> <durationMs>; the offer JSON comes in FLOOD_OFFER (never argv: `ps` shows it). Prints "ready" once the handshake is done,
// then floods for the duration (or until stdin closes) and prints "sent <n> received <n> closed <code|->".
// Sending is paced only by the socket's own buffer (64 KiB): as fast as the relay will take it.
import { WebSocket } from "ws";
import { ClientHandshake } from "../../dist/protocol/handshake.js";
import { fromBase64Url } from "../../dist/protocol/encoding.js";
import { nativeBackend } from "../../dist/protocol/crypto/native.js";
import { encodeControl } from "../../dist/protocol/rpc.js";

const [url, mode, durationText] = process.argv.slice(2);
const offer = JSON.parse(process.env.FLOOD_OFFER);
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
  process.stdout.write("ready\n");
  setTimeout(done, Number(durationText));
  void flood();
});
const done = () => {
  process.stdout.write(`sent ${sent} received ${received} closed ${closed}\n`);
  ws.terminate();
  process.exit(0);
};
process.stdin.on("end", done);
process.stdin.resume();

let frames = [];
const pad = " ".repeat(4096);
async function flood() {
  let id = 1;
  for (;;) {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount < 64 * 1024) {
      for (let i = 0; i < 100; i++) {
        if (mode === "chunks") {
          // chunks: valid 4 KiB requests (JSON padded with spaces) split into 16-byte chunks: ~256 tiny frames each.
          if (frames.length === 0) {
            const body = encodeControl({ t: "req", id: id++, method: "server.info", params: {} });
            const padded = new Uint8Array(body.length + pad.length);
            padded.set(body);
            padded.set(new TextEncoder().encode(pad), body.length);
            frames = channel.encrypt({ type: 1, body: padded }).reverse();
          }
          ws.send(frames.pop());
        } else {
          for (const f of channel.encrypt({
            type: 1,
            body: encodeControl({ t: "req", id: id++, method: "agents.list", params: {} }),
          }))
            ws.send(f);
        }
        sent++;
      }
    }
    await new Promise((r) => setImmediate(r));
  }
}
