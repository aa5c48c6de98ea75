/**
 * `paseo` — the public API. Browser-safe: this entry never imports Node built-ins at load time
 * (node:crypto and node:fs are loaded on demand, only in Node).
 *
 *   import { DaemonClient, parseOffer, buildRelayUrl } from "paseo";
 */
export {
  DaemonClient,
  type DaemonClientOptions,
  type ConnectionState,
  type DeviceCredential,
  type EnrollOptions,
  type EnrolledEvent,
} from "./client/daemon-client.js";
export { matchAgentRef, resolveAgentRef, AgentAmbiguousError, AgentNotFoundError } from "./client/agent-ref.js";
export { escapeControls } from "./protocol/escape.js";
export { type LogChunk, type LogsOptions, LogGapError } from "./client/logs.js";
export {
  TerminalSession,
  MAX_PENDING_BYTES,
  MAX_QUEUED_INPUT_BYTES,
  type AttachOptions,
  type LaneChange,
  type TerminalSessionState,
} from "./client/terminal-session.js";
export { keyBytes, ctrlOf, KeyNameError, type KeyOptions } from "./client/terminal-keys.js";
export { buildRelayUrl, parseRelayEndpoint, type RelayEndpoint, type RelayRole } from "./protocol/relay-url.js";
export { resolveOffer, OFFER_ENV, type ResolvedOffer, type ResolveOfferOptions } from "./client/offer-resolve.js";
export {
  ClientClosedError,
  ConnectFailedError,
  ConnectionClosedError,
  DaemonOfflineError,
  DeviceRevokedError,
  DeviceLimitError,
  DeviceUnknownError,
  EnrollmentRequiredError,
  FrameTooLargeError,
  HandshakeError,
  RelayUnreachableError,
  RpcError,
  TimeoutError,
  errorForClose,
} from "./client/errors.js";
export type { WebSocketConstructor, WebSocketLike } from "./client/transport.js";
export { parseOffer, encodeOffer, offerToLink, isOfferExpired, type Offer } from "./protocol/offer.js";
export { OfferError, OfferExpiredError, OfferRevokedError, OfferVersionError } from "./protocol/offer-errors.js";
export { PaseoError } from "./protocol/errors.js";
export { CloseCode } from "./protocol/close-codes.js";
export {
  deviceIdOf,
  sasOf,
  isDeviceRights,
  DEVICE_ID_RE,
  type DeviceRights,
  type DeviceInfo,
  type DeviceState,
  type SessionInfo,
  type SessionKind,
} from "./protocol/device.js";
export { RpcProtocolError } from "./protocol/rpc.js";
export type {
  AgentInfo,
  ServerInfo,
  ExecResult,
  HostMetrics,
  TerminalLane,
  LaneReason,
  TerminalScreen,
} from "./protocol/rpc.js";
export { PASEO_VERSION, PROTOCOL_VERSION } from "./version.js";
