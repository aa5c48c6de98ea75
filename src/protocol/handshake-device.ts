/**
 * Device handshakes (issue 16, docs/protocol.md §6), beside the bearer 0x01 in handshake.ts:
 *
 *   0x02 enrolled device: Noise_IK_25519_ChaChaPoly_SHA256
 *        hello = 0x02 ‖ noise message 1; prologue "paseo/device/1" ‖ 0x00 ‖ utf8(serverId)
 *   0x03 enrollment:      Noise_IKpsk1_25519_ChaChaPoly_SHA256 (psk = the ticket secret)
 *        hello = 0x03 ‖ offerId (12) ‖ noise message 1; prologue "paseo/enroll/1" ‖ 0x00 ‖ utf8(serverId) ‖ 0x00 ‖ offerId
 *
 * The device's static key travels encrypted in message 1 (`s`), and `ss` proves the device holds it; the daemon
 * learns it with remoteStaticKey() after readHello() and decides (enrolled? revoked?) before writing message 2.
 * Pure: the daemon and DaemonClient do the I/O.
 */
import type { CryptoBackend, KeyPair } from "./crypto/backend.js";
import { HandshakeState } from "./noise/index.js";
import { concatBytes, utf8 } from "./encoding.js";
import type { AppMessage } from "./frame.js";
import { SecureChannel, type SecureChannelOptions } from "./secure-channel.js";
import { HelloError, messageOf, OFFER_ID_LEN, payloadOf } from "./handshake.js";

export const DEVICE_NOISE_PROTOCOL = "Noise_IK_25519_ChaChaPoly_SHA256";
export const ENROLL_NOISE_PROTOCOL = "Noise_IKpsk1_25519_ChaChaPoly_SHA256";
export const DEVICE_HELLO_VERSION = 2;
export const ENROLL_HELLO_VERSION = 3;

export function devicePrologue(serverId: string): Uint8Array {
  return concatBytes(utf8("paseo/device/1"), new Uint8Array([0]), utf8(serverId));
}

export function enrollPrologue(serverId: string, offerId: Uint8Array): Uint8Array {
  return concatBytes(utf8("paseo/enroll/1"), new Uint8Array([0]), utf8(serverId), new Uint8Array([0]), offerId);
}

/** With `enroll` (offerId + ticket secret) the hello is 0x03; without, 0x02. */
export interface DeviceClientHandshakeOptions {
  backend: CryptoBackend;
  serverId: string;
  daemonPublicKey: Uint8Array;
  deviceKey: KeyPair;
  enroll?: { offerId: Uint8Array; psk: Uint8Array };
  channel?: SecureChannelOptions;
}

export class DeviceClientHandshake {
  private readonly state: HandshakeState;

  constructor(private readonly options: DeviceClientHandshakeOptions) {
    const enroll = options.enroll;
    if (enroll && enroll.offerId.length !== OFFER_ID_LEN)
      throw new HelloError("HELLO_INVALID", "offer id must be 12 bytes");
    this.state = new HandshakeState({
      protocolName: enroll ? ENROLL_NOISE_PROTOCOL : DEVICE_NOISE_PROTOCOL,
      initiator: true,
      backend: options.backend,
      prologue: enroll ? enrollPrologue(options.serverId, enroll.offerId) : devicePrologue(options.serverId),
      s: options.deviceKey,
      rs: options.daemonPublicKey,
      psks: enroll ? [enroll.psk] : [],
    });
  }

  hello(early?: AppMessage): Uint8Array {
    const m1 = this.state.writeMessage(payloadOf(early));
    const enroll = this.options.enroll;
    return enroll
      ? concatBytes(new Uint8Array([ENROLL_HELLO_VERSION]), enroll.offerId, m1)
      : concatBytes(new Uint8Array([DEVICE_HELLO_VERSION]), m1);
  }

  readReply(message2: Uint8Array): {
    channel: SecureChannel;
    welcome: AppMessage | undefined;
    handshakeHash: Uint8Array;
  } {
    const payload = this.state.readMessage(message2);
    const { send, recv } = this.state.split();
    return {
      channel: new SecureChannel(send, recv, this.options.channel),
      welcome: messageOf(payload),
      handshakeHash: this.state.handshakeHash(),
    };
  }
}

export interface DeviceServerHandshakeOptions {
  backend: CryptoBackend;
  serverId: string;
  staticKey: KeyPair;
  enroll?: { offerId: Uint8Array; psk: Uint8Array };
  channel?: SecureChannelOptions;
}

/** Responder: readHello(), then check remoteStaticKey() against devices.json, then reply() (or close with a code). */
export class DeviceServerHandshake {
  private readonly state: HandshakeState;

  constructor(private readonly options: DeviceServerHandshakeOptions) {
    const enroll = options.enroll;
    this.state = new HandshakeState({
      protocolName: enroll ? ENROLL_NOISE_PROTOCOL : DEVICE_NOISE_PROTOCOL,
      initiator: false,
      backend: options.backend,
      prologue: enroll ? enrollPrologue(options.serverId, enroll.offerId) : devicePrologue(options.serverId),
      s: options.staticKey,
      psks: enroll ? [enroll.psk] : [],
    });
  }

  /** Decrypt message 1 (throws on a wrong key/secret or a low-order device key); returns the early request. */
  readHello(noiseMessage: Uint8Array): AppMessage | undefined {
    return messageOf(this.state.readMessage(noiseMessage));
  }

  /** The device's static public key, authenticated by message 1 (`ss`). */
  deviceKey(): Uint8Array {
    const key = this.state.remoteStaticKey();
    if (!key) throw new HelloError("HELLO_INVALID", "no device key in message 1");
    return key;
  }

  reply(welcome: AppMessage): { message: Uint8Array; channel: SecureChannel; handshakeHash: Uint8Array } {
    const message = this.state.writeMessage(payloadOf(welcome));
    const { send, recv } = this.state.split();
    return {
      message,
      channel: new SecureChannel(send, recv, this.options.channel),
      handshakeHash: this.state.handshakeHash(),
    };
  }
}

/** Smallest Noise IK message 1: e (32) ‖ encrypted s (32 + 16) ‖ payload tag (16). */
const MIN_IK_MESSAGE1 = 32 + 48 + 16;

export type ParsedDeviceHello =
  | { version: typeof DEVICE_HELLO_VERSION; noiseMessage: Uint8Array }
  | { version: typeof ENROLL_HELLO_VERSION; offerId: Uint8Array; noiseMessage: Uint8Array };

/** Split a 0x02 / 0x03 hello's header off (parseHello in handshake.ts does 0x01). */
export function parseDeviceHello(bytes: Uint8Array): ParsedDeviceHello {
  if (bytes[0] === DEVICE_HELLO_VERSION) {
    if (bytes.length < 1 + MIN_IK_MESSAGE1) throw new HelloError("HELLO_INVALID", "truncated device hello");
    return { version: DEVICE_HELLO_VERSION, noiseMessage: bytes.subarray(1) };
  }
  if (bytes[0] === ENROLL_HELLO_VERSION) {
    if (bytes.length < 1 + OFFER_ID_LEN + MIN_IK_MESSAGE1)
      throw new HelloError("HELLO_INVALID", "truncated enrollment hello");
    return {
      version: ENROLL_HELLO_VERSION,
      offerId: bytes.subarray(1, 1 + OFFER_ID_LEN),
      noiseMessage: bytes.subarray(1 + OFFER_ID_LEN),
    };
  }
  throw new HelloError("UNSUPPORTED_VERSION", `hello version ${bytes[0]} is not a device hello`);
}
