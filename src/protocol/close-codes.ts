/**
 * Every WebSocket close code paseo uses, in one table (docs/protocol.md lists the same).
 * 4000–4099 are sent by the relay; 4100–4199 by the daemon (over the relay, the daemon asks the relay to close the
 * client's socket with its code). Each code maps to a named error class on the client (src/client/errors.ts).
 */
export const CloseCode = {
  // relay
  BAD_REQUEST: 4000,
  DAEMON_OFFLINE: 4001,
  DAEMON_GONE: 4002,
  AUTH_FAILED: 4003,
  REPLACED: 4004,
  FRAME_TOO_LARGE: 4005,
  OVERLOADED: 4006,
  RATE_LIMITED: 4007,
  TIMEOUT: 4008,
  RELAY_RESTARTING: 4009,
  PROTOCOL_MISMATCH: 4010,
  // daemon
  HANDSHAKE_FAILED: 4100,
  OFFER_UNKNOWN: 4101,
  OFFER_EXPIRED: 4102,
  OFFER_REVOKED: 4103,
  OFFER_USED: 4104,
  BUSY: 4105,
  HANDSHAKE_TIMEOUT: 4106,
  IDLE: 4107,
  PROTOCOL_ERROR: 4108,
  MESSAGE_TOO_LARGE: 4109,
  DAEMON_SHUTDOWN: 4110,
  UNSUPPORTED_VERSION: 4111,
  HELLO_INVALID: 4112,
  DEVICE_UNKNOWN: 4113,
  DEVICE_REVOKED: 4114,
  ENROLLMENT_REQUIRED: 4115,
  DEVICE_LIMIT: 4116,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

/** Short human reasons (≤ 123 bytes, the WebSocket limit). Never include secrets. */
export const closeReason: Record<number, string> = {
  4000: "bad request",
  4001: "daemon offline",
  4002: "daemon disconnected",
  4003: "daemon authentication failed",
  4004: "replaced by a newer daemon connection",
  4005: "frame too large",
  4006: "peer overloaded: buffer limit exceeded",
  4007: "rate limited",
  4008: "timed out",
  4009: "relay restarting",
  4010: "protocol version not supported by this relay",
  4100: "handshake failed",
  4101: "offer not recognised",
  4102: "offer expired",
  4103: "offer revoked",
  4104: "offer already used",
  4105: "daemon busy: too many handshakes",
  4106: "handshake timed out",
  4107: "idle timeout",
  4108: "protocol error",
  4109: "message too large",
  4110: "daemon shutting down",
  4111: "protocol version not supported by this daemon",
  4112: "malformed hello",
  4113: "device not enrolled on this daemon",
  4114: "device revoked",
  4115: "this offer is an enrollment ticket: enroll a device with it",
  4116: "too many devices enrolled on this daemon",
};

export function closeCodeName(code: number): string {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name;
  return `CODE_${code}`;
}
