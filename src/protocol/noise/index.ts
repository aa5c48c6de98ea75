/** The Noise Protocol Framework engine (revision 34), pure code: no sockets, files or timers. */
export { MAX_NOISE_MESSAGE, CipherState } from "./cipher-state.js";
export { Nonce, MAX_NONCE } from "./nonce.js";
export { NONCE_LEN } from "../crypto/backend.js";
export { SymmetricState, HASHLEN, noiseHkdf } from "./symmetric-state.js";
export {
  type HandshakePattern,
  type NoiseProtocol,
  type PreMessageToken,
  type Token,
  applyPskModifiers,
  basePattern,
  parseProtocolName,
  SUPPORTED_PATTERNS,
} from "./patterns.js";
export { HandshakeState, PSK_LEN, type HandshakeOptions, type TransportStates } from "./handshake-state.js";
export {
  ChannelFailedError,
  HandshakeError,
  NoiseConfigError,
  NoiseMessageTooLargeError,
  NoiseStateError,
  NonceExhaustedError,
  TruncatedMessageError,
} from "./errors.js";
