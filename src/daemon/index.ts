/** `paseo/daemon`: run a daemon from a program, and the pieces the CLI uses. */
export { startDaemon, type Daemon, type DaemonOptions } from "./daemon.js";
export { resolveHome, loadConfig, saveConfig, isProcessAlive, DEFAULT_EMBEDDED_RELAY } from "./home.js";
export { loadIdentity, loadOrCreateIdentity, type DaemonIdentity } from "./identity.js";
export { OfferStore } from "./offer-store.js";
export { createPairing, type Pairing } from "./pairing.js";
export { readStatus, readLocalOffer, readPid, type DaemonStatusFile } from "./runtime-files.js";
export { createLogger, type Logger, type LogLevel } from "./logger.js";
