import { describe, expect, it } from "vitest";
import { nativeBackend } from "../../src/protocol/crypto/native.js";
import { nobleBackend } from "../../src/protocol/crypto/noble.js";
import { DeviceClientHandshake, DeviceServerHandshake } from "../../src/protocol/handshake-device.js";
import { MessageType } from "../../src/protocol/frame.js";
import { deviceIdOf, sasOf } from "../../src/protocol/device.js";

const serverId = "a".repeat(26);
const welcome = { type: MessageType.CONTROL, body: new TextEncoder().encode('{"t":"welcome"}') };

describe("device handshakes 0x02 (IK) and 0x03 (IKpsk1)", () => {
  for (const backend of [nativeBackend, nobleBackend]) {
    for (const mode of ["device", "enroll"] as const) {
      it(`${backend.name} ${mode}: hello byte, device key learnt, same hash and SAS both sides`, () => {
        const daemon = backend.generateKeyPair();
        const device = backend.generateKeyPair();
        const enroll =
          mode === "enroll" ? { offerId: backend.randomBytes(12), psk: backend.randomBytes(32) } : undefined;
        const client = new DeviceClientHandshake({
          backend,
          serverId,
          daemonPublicKey: daemon.publicKey,
          deviceKey: device,
          enroll,
        });
        const hello = client.hello();
        expect(hello[0]).toBe(mode === "enroll" ? 3 : 2);
        const server = new DeviceServerHandshake({ backend, serverId, staticKey: daemon, enroll });
        server.readHello(hello.subarray(mode === "enroll" ? 13 : 1));
        expect(deviceIdOf(backend, server.deviceKey())).toBe(deviceIdOf(backend, device.publicKey));
        const reply = server.reply(welcome);
        const done = client.readReply(reply.message);
        expect(sasOf(backend, done.handshakeHash)).toBe(sasOf(backend, reply.handshakeHash));
        const wire = done.channel.encrypt(welcome);
        expect(reply.channel.decrypt(wire[0]!)?.body).toEqual(welcome.body);
      });
    }

    it(`${backend.name}: a wrong ticket secret or another daemon's key fails message 1`, () => {
      const daemon = backend.generateKeyPair();
      const device = backend.generateKeyPair();
      const offerId = backend.randomBytes(12);
      const client = new DeviceClientHandshake({
        backend,
        serverId,
        daemonPublicKey: daemon.publicKey,
        deviceKey: device,
        enroll: { offerId, psk: backend.randomBytes(32) },
      });
      const server = new DeviceServerHandshake({
        backend,
        serverId,
        staticKey: daemon,
        enroll: { offerId, psk: backend.randomBytes(32) },
      });
      expect(() => server.readHello(client.hello().subarray(13))).toThrow();
      const other = new DeviceServerHandshake({ backend, serverId, staticKey: backend.generateKeyPair() });
      const ik = new DeviceClientHandshake({ backend, serverId, daemonPublicKey: daemon.publicKey, deviceKey: device });
      expect(() => other.readHello(ik.hello().subarray(1))).toThrow();
    });

    it(`${backend.name}: a low-order device key (here: the all-zero point) is refused at message 1`, () => {
      const daemon = backend.generateKeyPair();
      // A hostile client claims a low-order public key: the daemon's ss = DH(daemon, s) is all-zero → refused.
      const hostile = { secretKey: backend.randomBytes(32), publicKey: new Uint8Array(32) };
      const client = new DeviceClientHandshake({
        backend,
        serverId,
        daemonPublicKey: daemon.publicKey,
        deviceKey: hostile,
      });
      const server = new DeviceServerHandshake({ backend, serverId, staticKey: daemon });
      expect(() => server.readHello(client.hello().subarray(1))).toThrow(/low-order|zero/i);
    });
  }
});
