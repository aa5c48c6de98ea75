/**
 * The daemon's watermarks, one constant each. Outbound: a client socket (relay link or local) stops taking stream
 * output above SEND_HIGH_WATER buffered bytes and takes it again below SEND_LOW_WATER (relay/flow.ts SendFlow).
 * Inbound: a client whose unprocessed backlog passes INBOUND_HIGH_WATER is paused at its source until it falls below
 * INBOUND_LOW_WATER (fair-scheduler.ts).
 */
export const SEND_HIGH_WATER = 4 * 1024 * 1024;
export const SEND_LOW_WATER = SEND_HIGH_WATER / 2;
export const INBOUND_HIGH_WATER = 64 * 1024;
export const INBOUND_LOW_WATER = 16 * 1024;
