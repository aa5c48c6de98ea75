/**
 * Issue 16: CPU per side of the enrolled-device handshake (hello 0x02, Noise_IK) on the native backend, with
 * process.cpuUsage (user+system). Target ≤ 1 ms per side. Run: npm run build && node bench/device-handshake.js
 * (standalone for now: not yet a section of bench/run.js). The `ls` round-trip count is not measured here yet.
 */
import { nativeBackend as backend } from "../dist/protocol/crypto/native.js";
import { DeviceClientHandshake, DeviceServerHandshake } from "../dist/protocol/handshake-device.js";
import { MessageType } from "../dist/protocol/frame.js";

const serverId = "a".repeat(26);
const daemon = backend.generateKeyPair();
const device = backend.generateKeyPair();
const welcome = { type: MessageType.CONTROL, body: new TextEncoder().encode('{"t":"welcome"}') };
const N = 500;
let clientUs = 0;
let serverUs = 0;
for (let i = 0; i < N + 50; i++) {
  let t = process.cpuUsage();
  const client = new DeviceClientHandshake({ backend, serverId, daemonPublicKey: daemon.publicKey, deviceKey: device });
  const hello = client.hello();
  let d = process.cpuUsage(t);
  const c1 = d.user + d.system;
  t = process.cpuUsage();
  const server = new DeviceServerHandshake({ backend, serverId, staticKey: daemon });
  server.readHello(hello.subarray(1));
  server.deviceKey();
  const reply = server.reply(welcome);
  d = process.cpuUsage(t);
  const s = d.user + d.system;
  t = process.cpuUsage();
  client.readReply(reply.message);
  d = process.cpuUsage(t);
  if (i >= 50) {
    clientUs += c1 + d.user + d.system;
    serverUs += s;
  }
}
console.log(
  JSON.stringify({
    pattern: "Noise_IK_25519_ChaChaPoly_SHA256",
    backend: backend.name,
    n: N,
    clientCpuMsPerHandshake: +(clientUs / N / 1000).toFixed(3),
    daemonCpuMsPerHandshake: +(serverUs / N / 1000).toFixed(3),
  }),
);
