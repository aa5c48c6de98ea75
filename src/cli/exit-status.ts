/**
 * Exit statuses. Every command: 0 ok, 1 failure, 2 usage error. Commands that pass on a remote status (`exec`,
 * `logs -f`) must keep paseo's own failures apart from it, so they follow ssh and coreutils `timeout`:
 *   n        the remote command / agent exited with n
 *   128+n    it was killed by signal n (SIGKILL → 137, SIGTERM → 143), as a shell reports it
 *   124      exec only: --exec-timeout expired and the command was killed (coreutils `timeout`)
 *   126/127  exec only: the command could not be started: not executable / not found (as a shell reports it)
 *   255      paseo itself failed: could not connect, the daemon refused or went away, a usage error (like ssh)
 * The failure status is process-wide: main.ts exits with it when a command throws.
 */
import { constants } from "node:os";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_TIMED_OUT = 124;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;
export const EXIT_PASEO_FAILED = 255;

let failureStatus = EXIT_FAILURE;
let usageStatus = EXIT_USAGE;

/** For commands that pass on a remote status: paseo's own failures (and usage errors) exit with 255. */
export function useRemoteStatusConvention(): void {
  failureStatus = EXIT_PASEO_FAILED;
  usageStatus = EXIT_PASEO_FAILED;
}

export function failureExitStatus(): number {
  return failureStatus;
}

export function usageExitStatus(): number {
  return usageStatus;
}

/** 128 + the signal's number, as a shell reports a command killed by it; 255 for a name this platform lacks. */
export function signalExitStatus(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return n === undefined ? EXIT_PASEO_FAILED : 128 + n;
}
