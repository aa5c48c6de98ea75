/**
 * `paseo daemon pair` — publish a pairing offer (link, QR, --save FILE, --json) — and `paseo daemon offers`
 * (list, revoke). These only touch files under PASEO_HOME, so they work whether or not the daemon is running: a
 * running daemon picks up new offers on the next handshake and closes the live sessions of revoked ones at once
 * (it watches offers.json; src/daemon/offer-sessions.ts).
 */
import { appendAudit } from "../../daemon/audit-log.js";
import { resolve as resolvePath } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { type RelayEndpoint, parseRelayEndpoint } from "../../protocol/relay-url.js";
import { loadDefaultBackend } from "../../protocol/crypto/select.js";
import { PaseoError } from "../../protocol/errors.js";
import { escapeControls } from "../../protocol/escape.js";
import { describeInput } from "../../protocol/redact.js";
import { resolveHome, writeFileAtomic } from "../../daemon/home.js";
import { OfferStore, USE_FLUSH_MS, type OfferSummary } from "../../daemon/offer-store.js";
import { NO_APP_URL_HINT, createPairing, hasNoAppUrl, runningDaemonRelay } from "../../daemon/pairing.js";
import { parseAppUrl, saveAppUrl } from "../app-url.js";
import { info, printJson, table } from "../output.js";
import { QR_SKIPPED_NOTE, type QrChoice, renderQr, shouldPrintQr } from "../qr.js";
import { MAX_OFFER_LABEL_CHARS, offerLabelProblem } from "../../protocol/offer-label.js";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_TTL_MS = 366 * 86_400_000;

/** "30m", "12h", "7d", "1h30m", "90s", "2w" → milliseconds. Throws InvalidArgumentError on anything else. */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (!/^(?:\d+(?:\.\d+)?[smhdw])+$/.test(t)) {
    throw new InvalidArgumentError(
      `expected a duration like 30m, 12h or 7d (units s, m, h, d, w), got "${describeInput(text)}"`,
    );
  }
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  ms = Math.round(ms);
  if (ms < 1000) throw new InvalidArgumentError("the duration must be at least 1s");
  if (ms > MAX_TTL_MS) throw new InvalidArgumentError("the duration must be at most 366d");
  return ms;
}

/**
 * Parsed in the action, not as a commander argParser: commander echoes a rejected value verbatim, and a pasted
 * pairing link must never be echoed.
 */
function parseRelayOption(text: string): RelayEndpoint {
  if (text.includes("#offer=")) {
    throw new PaseoError(
      "USAGE",
      "--relay for `paseo daemon pair` is a relay address like wss://relay.example.com, not a pairing link",
    );
  }
  try {
    return parseRelayEndpoint(text);
  } catch {
    throw new PaseoError(
      "USAGE",
      `--relay must look like ws://host:port, wss://host or host:port (got "${describeInput(text)}")`,
    );
  }
}

function parseLabel(text: string): string {
  const problem = offerLabelProblem(text);
  if (problem !== undefined) throw new InvalidArgumentError(`the label ${problem}`);
  return text;
}

interface PairOptions {
  home?: string;
  save?: string;
  json?: boolean;
  qr: QrChoice;
  label?: string;
  ttl?: number;
  once?: boolean;
  rotate?: boolean;
  relay?: string;
  appUrl?: string;
  bearer?: boolean;
  uses?: number;
  reusable?: boolean;
  readOnly?: boolean;
}

/** A ticket's default lifetime: long enough to walk to the other device, short enough to be worthless later. */
export const TICKET_TTL_MS = 15 * 60_000;

function parseUses(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > 100_000)
    throw new InvalidArgumentError(`expected a number of devices from 1 to 100000, got "${describeInput(text)}"`);
  return n;
}

/** What kind of link `pair` makes from its flags: an enrollment ticket (default) or a bearer offer (--bearer). */
function offerKind(opts: PairOptions): {
  ticket: boolean;
  once?: boolean;
  maxUses?: number;
  ttlMs?: number;
  rights?: "read-only";
} {
  if (opts.bearer) {
    const clash =
      opts.uses !== undefined ? "--uses" : opts.reusable ? "--reusable" : opts.readOnly ? "--read-only" : undefined;
    if (clash)
      throw new PaseoError(
        "USAGE",
        `${clash} applies to enrollment tickets; drop --bearer (a bearer link always has full control)`,
      );
    return {
      ticket: false,
      ...(opts.once ? { once: true } : {}),
      ...(opts.ttl !== undefined ? { ttlMs: opts.ttl } : {}),
    };
  }
  if (opts.reusable && opts.uses !== undefined)
    throw new PaseoError("USAGE", "--reusable and --uses exclude each other");
  const uses = opts.reusable ? undefined : (opts.uses ?? 1);
  return {
    ticket: true,
    ...(uses === 1 ? { once: true } : uses !== undefined ? { maxUses: uses } : {}),
    ttlMs: opts.ttl ?? TICKET_TTL_MS,
    ...(opts.readOnly ? { rights: "read-only" as const } : {}),
  };
}

interface HomeOption {
  home?: string;
  json?: boolean;
}

function describeState(o: OfferSummary): string {
  const kind = o.ticket ? `ticket, ${o.rights ?? "control"}` : "bearer";
  if (o.state !== "active") return `${o.state} (${kind})`;
  const left = o.once ? "once" : o.maxUses !== undefined ? `${o.maxUses - o.uses} left` : undefined;
  return `active (${kind}${left ? `, ${left}` : ""})`;
}

/** The devices a ticket enrolled, as a short cell (`paseo daemon devices` has the rest). */
function enrolledCell(o: OfferSummary): string {
  const ids = o.devices ?? [];
  return ids.length <= 2 ? ids.join(", ") : `${ids.slice(-2).join(", ")} (+${ids.length - 2})`;
}

async function runPair(opts: PairOptions): Promise<void> {
  const home = resolveHome(opts.home);
  const backend = await loadDefaultBackend();
  const kind = offerKind(opts);
  if (opts.appUrl !== undefined) await saveAppUrl(home, opts.appUrl);
  const pairing = await createPairing({
    home,
    backend,
    ...(opts.relay !== undefined ? { relay: parseRelayOption(opts.relay) } : {}),
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...kind,
    ...(opts.rotate ? { rotate: true } : {}),
  });
  const { offer, link, fingerprint } = pairing;
  if (opts.relay !== undefined) {
    // An explicit relay is the user's call; a link the running daemon cannot answer on deserves a warning.
    const running = await runningDaemonRelay(home);
    if (running && (running.endpoint !== offer.relay.endpoint || running.tls !== offer.relay.tls)) {
      info(
        `warning: the running daemon uses the relay ${running.tls ? "wss" : "ws"}://${running.endpoint}; this link only works once it is started with --relay pointing where this one does`,
      );
    }
  }

  let savedTo: string | undefined;
  if (opts.save !== undefined) {
    savedTo = resolvePath(opts.save);
    await writeFileAtomic(savedTo, `${link}\n`, 0o600);
  }

  if (opts.json) {
    printJson({
      link,
      offer,
      fingerprint,
      serverId: pairing.serverId,
      offerId: offer.offerId,
      expiresAt: offer.expiresAt ?? null,
      label: offer.label ?? null,
      once: pairing.record.once,
      ticket: pairing.record.ticket === true,
      ...(pairing.record.ticket
        ? {
            rights: pairing.record.rights ?? "control",
            maxUses: pairing.record.once ? 1 : (pairing.record.maxUses ?? null),
          }
        : {}),
      relay: offer.relay,
      revoked: pairing.revoked,
      identityCreated: pairing.identityCreated,
      ...(savedTo !== undefined ? { savedTo } : {}),
    });
    return;
  }

  // The link and the fingerprint come LAST (after the QR code): they must stay on screen in an 80×24 terminal.
  const lines: string[] = [];
  if (pairing.identityCreated) lines.push(`Created a new daemon identity in ${home}`);
  if (opts.rotate) lines.push(`Revoked ${pairing.revoked.length} standing offer(s).`);
  lines.push(
    `Offer id:    ${offer.offerId}${offer.label !== undefined ? ` (${escapeControls(offer.label)})` : ""}`,
    `Server id:   ${pairing.serverId}`,
    `Relay:       ${offer.relay.tls ? "wss" : "ws"}://${offer.relay.endpoint}`,
    `Expires:     ${offer.expiresAt ?? "never (revoke with `paseo daemon offers revoke <id|label>`)"}`,
  );
  const record = pairing.record;
  if (record.ticket) {
    const uses = record.once
      ? "1 device"
      : record.maxUses !== undefined
        ? `${record.maxUses} devices`
        : "any number of devices";
    lines.push(
      `Enrolls:     ${uses}, ${record.rights ?? "control"} rights — each device gets its own key and no longer needs the link`,
    );
  } else if (record.once) lines.push("Single use:  yes — it stops working after the first connection");
  process.stdout.write(`${lines.join("\n")}\n`);
  if (savedTo !== undefined) info(`Saved the link to ${savedTo} (mode 0600).`);
  if (shouldPrintQr(opts.qr, link, offer.relay.endpoint)) process.stdout.write(`\n${renderQr(link)}\n`);
  else if (opts.qr === undefined) process.stdout.write(`${QR_SKIPPED_NOTE}\n`);
  process.stdout.write(
    [
      ...(hasNoAppUrl(link) ? ["", NO_APP_URL_HINT] : []),
      "",
      record.ticket
        ? "Enrollment link — the device that opens it first is paired; compare the code it shows with `paseo daemon devices`:"
        : "Pairing link — anyone with it can control this machine until it is revoked; share it only with yourself:",
      `  ${link}`,
      `Daemon fingerprint: ${fingerprint}`,
      "",
    ].join("\n"),
  );
}

async function runList(opts: HomeOption): Promise<void> {
  const home = resolveHome(opts.home);
  const store = new OfferStore(home, { backend: await loadDefaultBackend() });
  const offers = await store.listOffers();
  if (opts.json) {
    printJson(offers);
    return;
  }
  if (offers.length === 0) {
    process.stdout.write("No pairing offers. Create one with `paseo daemon pair`.\n");
    return;
  }
  const rows = offers.map((o) => [
    o.id,
    describeState(o),
    o.label ?? "",
    o.createdAt,
    o.expiresAt ?? "never",
    String(o.uses),
    o.lastUsedAt ?? "",
    enrolledCell(o),
  ]);
  process.stdout.write(
    `${table(["ID", "STATE", "LABEL", "CREATED", "EXPIRES", "USES", "LAST USED", "ENROLLED"], rows)}\n`,
  );
  // The running daemon keeps fresh counts in memory for up to USE_FLUSH_MS; say what USES means and how old it is.
  const asOf = new Date().toISOString();
  const lag =
    (await runningDaemonRelay(home)) !== undefined
      ? ` (the running daemon writes them within ${USE_FLUSH_MS / 1000} s)`
      : "";
  process.stdout.write(
    `USES = sessions whose client completed the handshake, as of ${asOf}${lag}; replayed hellos are not counted.\n`,
  );
}

async function runRevoke(id: string, opts: HomeOption): Promise<void> {
  const store = new OfferStore(resolveHome(opts.home), { backend: await loadDefaultBackend() });
  const summary = await store.revokeOffer(id);
  appendAudit(resolveHome(opts.home), { event: "offer.revoked", offerId: summary.id, label: summary.label ?? null });
  if (opts.json) {
    printJson(summary);
    return;
  }
  process.stdout.write(
    `Revoked offer ${summary.id}${summary.label !== undefined ? ` (${escapeControls(summary.label)})` : ""} at ${summary.revokedAt}.\n`,
  );
}

/** Add `pair` and `offers` (with `offers revoke <id>`) to the given `daemon` command. */
export function registerPairCommands(daemonCommand: Command): void {
  daemonCommand
    .command("pair")
    .description(
      "create a pairing offer: print its link and the daemon fingerprint (and a QR code when a phone can open the link)",
    )
    .option("--home <dir>", "paseo home directory (default $PASEO_HOME or ~/.paseo)")
    .option("--save <file>", "also write the link to FILE (mode 0600)")
    .option("--json", "print {link, offer, fingerprint, offerId, expiresAt, …} as JSON")
    .option(
      "--qr",
      "print a QR code even when the link's relay is on loopback (default: only when another device can open it)",
    )
    .option("--no-qr", "never print a QR code")
    .option(
      "--label <text>",
      `a name for this offer, shown by \`paseo daemon offers\` (≤ ${MAX_OFFER_LABEL_CHARS} characters)`,
      parseLabel,
    )
    .option(
      "--ttl <duration>",
      `expire the link after this long, e.g. 30m, 12h, 7d (default for enrollment links: ${TICKET_TTL_MS / 60_000}m)`,
      parseDuration,
    )
    .option("--uses <n>", "the link enrolls up to N devices (default 1)", parseUses)
    .option("--reusable", "the link enrolls any number of devices until it expires or is revoked (kiosks, CI runners)")
    .option(
      "--read-only",
      "devices enrolled with this link may watch (ls, logs, attach) but not run, send, stop or exec",
    )
    .option(
      "--bearer",
      "an old-style link that is itself the credential (full control for whoever holds it until revoked); no device is enrolled",
    )
    .option("--once", "with --bearer: the link stops working after the first successful connection")
    .option("--rotate", "revoke every standing offer, then create this one")
    .option(
      "--app-url <url>",
      "where links point: a static host serving the app (dist/web) that you trust (saved to config.json)",
      parseAppUrl,
    )
    .option(
      "--relay <url>",
      "relay for this offer, e.g. wss://relay.example.com (default: the running daemon's relay, else config.json's, else the embedded relay's port)",
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await runPair(cmd.optsWithGlobals<PairOptions>());
    });

  const offers = daemonCommand
    .command("offers")
    .description("list pairing offers (without secrets) and their state; `offers revoke <id|label>` revokes one")
    .option("--home <dir>", "paseo home directory (default $PASEO_HOME or ~/.paseo)")
    .option("--json", "print the offers as JSON")
    .action(async (_opts: unknown, cmd: Command) => {
      await runList(cmd.optsWithGlobals<HomeOption>());
    });

  offers
    .command("revoke")
    .description(
      "revoke a pairing offer by id, unique id prefix or active offer's label; its open sessions are closed at once and new ones refused",
    )
    .argument("<id|label>", "offer id or label as shown by `paseo daemon offers`")
    .option("--home <dir>", "paseo home directory (default $PASEO_HOME or ~/.paseo)")
    .option("--json", "print the revoked offer as JSON")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await runRevoke(id, cmd.optsWithGlobals<HomeOption>());
    });
}
