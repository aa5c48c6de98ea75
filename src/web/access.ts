/**
 * What this session may do, as the views need it (issue 16): the session's rights from the welcome
 * (`SessionInfo.rights`) and the daemon's input kill switch (`ServerInfo.inputEnabled`, branch audit).
 *
 * The daemon enforces both (FORBIDDEN, INPUT_DISABLED); the views only avoid offering what would be refused — a
 * read-only device sees no Run, Stop, Send or Take control, and while input is off nobody's keys are sent.
 */
import type { ServerInfo } from "../index.js";

export interface Access {
  /** false for a read-only session: no run, stop, send, terminal take/typing (watch only). */
  control: boolean;
  /** false while the daemon's kill switch is off (or the session is read-only): no agent input, no terminal keys. */
  input: boolean;
}

export const FULL_ACCESS: Access = { control: true, input: true };

/**
 * `rights` is undefined for a daemon older than devices (no SessionInfo in its welcome: everything allowed, as
 * before). `inputEnabled` is checked for presence: a daemon without the kill switch never sends it.
 */
export function accessOf(rights: "control" | "read-only" | undefined, server: ServerInfo | undefined): Access {
  const control = rights !== "read-only";
  const killed = inputSwitchedOff(server);
  return { control, input: control && !killed };
}

export function inputSwitchedOff(server: ServerInfo | undefined): boolean {
  const flag = (server as { inputEnabled?: unknown } | undefined)?.inputEnabled;
  return flag === false;
}

export function sameAccess(a: Access, b: Access): boolean {
  return a.control === b.control && a.input === b.input;
}
