/** `paseo/protocol`: the pure protocol layer (no sockets, no fs) for people building their own peers. */
export * from "./noise/index.js";
export { nobleBackend } from "./crypto/noble.js";
export { loadBackend, loadDefaultBackend, currentBackend } from "./crypto/select.js";
export type { CryptoBackend, KeyPair, HashName } from "./crypto/backend.js";
export * from "./frame.js";
export * from "./handshake.js";
export { SecureChannel, REKEY_INTERVAL } from "./secure-channel.js";
export * from "./rpc.js";
export { deriveServerId, keyFingerprint } from "./server-id.js";
export * from "./close-codes.js";
export * from "./device.js";
