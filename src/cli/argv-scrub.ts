/**
 * Keep a pairing offer out of this process's arguments. On Linux every local user may read any process's
 * arguments (`ps`, /proc/<pid>/cmdline) unless /proc is mounted with `hidepid`, so a link passed as
 * `--relay "<link>"` is readable by them for as long as the command runs (a `logs -f` runs for hours).
 *
 * What we do, as early as the CLI can (./argv-scrub-early.ts is main.ts's first import):
 *   1. find arguments shaped like an offer (a link with #offer=, offer JSON, a long base64url token, also after
 *      `--opt=`);
 *   2. overwrite the kernel's argv area through `process.title` (libuv writes the title over the original argv
 *      strings and zero-fills the rest; `process.argv`, the JS copy commander parses, is unaffected);
 *   3. VERIFY by reading /proc/self/cmdline that no offer is left in it — "scrubbed" is a measured fact, not a hope;
 *   4. on a machine where other users can read our arguments (see detectMultiUser), print one warning line that
 *      names the safe forms: the link was readable from exec() until the scrub, and other places (shell history,
 *      the parent's own argv) still hold it.
 *
 * The environment is the safe channel: /proc/<pid>/environ is readable only by the process's own user (and root).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { looksLikeOffer } from "../protocol/offer.js";

export type ScrubState =
  /** No argument looked like an offer: nothing to do, the process title is left alone. */
  | "clean"
  /** An offer was in argv; /proc/self/cmdline was re-read and no longer holds it. */
  | "scrubbed"
  /** An offer was in argv and is still in /proc/self/cmdline after the attempt (the title could not cover it). */
  | "failed"
  /** An offer was in argv; the title was rewritten but there is no /proc/self/cmdline to check (not Linux). */
  | "unverified";

export interface ScrubResult {
  state: ScrubState;
  /** Indexes into argv of the arguments that held an offer. */
  offerArgs: number[];
  /** Seconds from process start to the end of the scrub (process.uptime()), when one was attempted. */
  atSeconds?: number;
}

/** The part of an argument that may be an offer: the whole argument, or the value of `--opt=value`. */
function offerPart(arg: string): string | undefined {
  if (looksLikeOffer(arg)) return arg;
  const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
  if (eq > 0 && looksLikeOffer(arg.slice(eq + 1))) return arg.slice(eq + 1);
  return undefined;
}

/**
 * argv indexes (from 2: after node and the script) holding an offer. Words after `--` are an agent's command
 * (`paseo exec -- sh -c '{ …; }'`), not paseo's options: they are left alone, so a shell block that happens to look
 * like JSON does not trigger a false warning.
 */
export function findOfferArgs(argv: readonly string[]): number[] {
  const found: number[] = [];
  for (let i = 2; i < argv.length && argv[i] !== "--"; i++) if (offerPart(argv[i]!) !== undefined) found.push(i);
  return found;
}

/** The title shown instead: the same command with each offer replaced by a marker (and no node/script path). */
export function scrubbedTitle(argv: readonly string[], offerArgs: readonly number[]): string {
  const words = ["paseo"];
  for (let i = 2; i < argv.length; i++) {
    if (!offerArgs.includes(i)) words.push(argv[i]!);
    else {
      const arg = argv[i]!;
      const eq = arg.startsWith("--") && !looksLikeOffer(arg) ? arg.indexOf("=") : -1;
      words.push(eq > 0 ? `${arg.slice(0, eq + 1)}<offer>` : "<offer>");
    }
  }
  return words.join(" ");
}

/** Whether `cmdline` (the raw /proc bytes as latin1) still holds any of the offers, or a 24-char piece of one. */
export function cmdlineHoldsOffer(cmdline: string, offers: readonly string[]): boolean {
  for (const offer of offers) {
    // Compare in UTF-8 bytes (what the kernel holds) and check pieces: a truncated title may leave a tail behind.
    const bytes = Buffer.from(offer, "utf8").toString("latin1");
    for (let at = 0; at + 24 <= bytes.length; at += 12) if (cmdline.includes(bytes.slice(at, at + 24))) return true;
    if (bytes.length < 24 && cmdline.includes(bytes)) return true;
  }
  return false;
}

function readCmdline(): string | undefined {
  try {
    return readFileSync("/proc/self/cmdline", "latin1");
  } catch {
    return undefined;
  }
}

/** Scrub offers from this process's argument area and verify it. Never throws. */
export function scrubOfferArgs(argv: readonly string[] = process.argv): ScrubResult {
  const offerArgs = findOfferArgs(argv);
  if (offerArgs.length === 0) return { state: "clean", offerArgs };
  const offers = offerArgs.map((i) => offerPart(argv[i]!)!);
  try {
    process.title = scrubbedTitle(argv, offerArgs);
  } catch {
    // an exotic platform without a settable title: the check below reports the outcome
  }
  const cmdline = readCmdline();
  const state: ScrubState =
    cmdline === undefined ? "unverified" : cmdlineHoldsOffer(cmdline, offers) ? "failed" : "scrubbed";
  return { state, offerArgs, atSeconds: process.uptime() };
}

export interface MachineFacts {
  /** /proc/self/mountinfo text ("" if unreadable). */
  mountinfo: string;
  /** /etc/passwd text ("" if unreadable). */
  passwd: string;
  /** Owners (uids) of the processes visible in /proc. */
  processUids: number[];
  /** Our own uid. */
  uid: number;
}

const NO_LOGIN_SHELL = /(^|\/)(nologin|false|sync|shutdown|halt)$/;

/**
 * "Multi-user" = another, non-root user can read our arguments. That needs both:
 *  - /proc without `hidepid` (hidepid=1/2/invisible/noaccess hides other users' cmdline), and
 *  - another user at all: an account other than ours and root's with a login shell in /etc/passwd (someone who can
 *    log in and run `ps`), or a process visible right now that belongs to another non-root uid (a service account
 *    such as www-data or postgres: if it is compromised, it reads our cmdline too).
 * Root is left out: root can read our memory anyway, so hiding argv from it protects nothing. A container with
 * only root and our user, and nothing else running, counts as single-user — there is no one to warn about.
 */
export function isMultiUser(facts: MachineFacts): boolean {
  const hidepid = /(^|[\s,])hidepid=(1|2|invisible|noaccess|ptraceable)(,|\s|$)/;
  const procLine = facts.mountinfo.split("\n").find((l) => / \/proc /.test(l) && / - proc /.test(l));
  if (procLine && hidepid.test(procLine)) return false;
  for (const line of facts.passwd.split("\n")) {
    const f = line.split(":");
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    if (!Number.isInteger(uid) || uid === 0 || uid === facts.uid) continue;
    if (!NO_LOGIN_SHELL.test(f[6]!.trim()) && f[6]!.trim() !== "") return true;
  }
  return facts.processUids.some((u) => u !== 0 && u !== facts.uid);
}

/** The facts of this machine (Linux); undefined where /proc does not exist (no /proc/<pid>/cmdline to read either). */
export function machineFacts(): MachineFacts | undefined {
  let mountinfo: string;
  try {
    mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return undefined;
  }
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    // unreadable: judge by the processes alone
  }
  const uid = process.getuid?.() ?? -1;
  // Another login account already decides it: skip the walk over every process (a stat each), which is most of
  // this function's cost on a busy machine.
  const accountsOnly: MachineFacts = { mountinfo, passwd, processUids: [], uid };
  if (isMultiUser(accountsOnly)) return accountsOnly;
  const processUids = new Set<number>();
  try {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        processUids.add(statSync(`/proc/${name}`).uid);
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    // ignore
  }
  return { mountinfo, passwd, processUids: [...processUids], uid };
}

/** The one warning line, or undefined when none is due. Never contains the offer. */
export function argvWarning(result: ScrubResult, facts: MachineFacts | undefined): string | undefined {
  if (result.state === "clean") return undefined;
  const safe =
    "pass `--relay <file>` (a file with mode 0600, e.g. from `paseo daemon pair --save`) or set PASEO_RELAY_OFFER instead";
  if (result.state === "failed")
    return `paseo: warning: the pairing link in this command's arguments could NOT be hidden from other users (ps, /proc/${process.pid}/cmdline) while it runs — ${safe}`;
  if (result.state === "unverified" || facts === undefined)
    return `paseo: warning: a pairing link on the command line may be visible to other users of this machine in \`ps\` — ${safe}`;
  if (!isMultiUser(facts)) return undefined;
  return `paseo: warning: other users of this machine could read the pairing link in this command's arguments until paseo hid it (and your shell history keeps it) — ${safe}`;
}
