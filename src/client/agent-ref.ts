/**
 * Agent references: what a user types where an agent is meant — its id, a unique prefix of its id, or its name
 * (`paseo run --name build` → `paseo logs -f build`). Resolved on the client against `agents.list {all: true}`, so
 * the daemon's RPC keeps taking exact ids and every client (CLI, SDK, browser) resolves the same way.
 *
 * Order (like docker): an exact id wins; then an exact name; then a unique id prefix.
 *   - A name used by several agents resolves to the one that is running, if exactly one is (the same name is
 *     usually reused for reruns of the same job; the live one is the one you mean). Otherwise it is ambiguous.
 *   - Ambiguity is a named error (AGENT_AMBIGUOUS) listing the candidates; no match is NOT_FOUND (the daemon's code).
 * Names in messages are escaped (they are remote text).
 */
import { PaseoError } from "../protocol/errors.js";
import { escapeControls } from "../protocol/escape.js";
import type { AgentInfo } from "../protocol/rpc.js";

/** How many candidates an ambiguity error lists before "and N more". */
export const MAX_LISTED_CANDIDATES = 8;

export class AgentNotFoundError extends PaseoError {
  readonly ref: string;
  constructor(ref: string) {
    super(
      "NOT_FOUND",
      `no agent on this daemon, running or ended, has the id, id prefix or name "${escapeControls(ref)}"`,
    );
    this.ref = ref;
  }
}

export class AgentAmbiguousError extends PaseoError {
  readonly ref: string;
  readonly candidates: AgentInfo[];
  constructor(ref: string, how: "name" | "id prefix", candidates: AgentInfo[]) {
    const listed = candidates.slice(0, MAX_LISTED_CANDIDATES).map(describe).join(", ");
    const more =
      candidates.length > MAX_LISTED_CANDIDATES ? ` and ${candidates.length - MAX_LISTED_CANDIDATES} more` : "";
    super(
      "AGENT_AMBIGUOUS",
      `"${escapeControls(ref)}" is the ${how} of ${candidates.length} agents: ${listed}${more}; use a longer id prefix or the full id`,
    );
    this.ref = ref;
    this.candidates = candidates;
  }
}

function describe(a: AgentInfo): string {
  return `${a.id} (${escapeControls(a.name)}, ${a.state})`;
}

/** Pick the agent `ref` names among `agents`. Pure; throws AgentNotFoundError or AgentAmbiguousError. */
export function matchAgentRef(agents: readonly AgentInfo[], ref: string): AgentInfo {
  if (ref === "") throw new PaseoError("BAD_PARAMS", "an agent id or name is required");
  const exact = agents.find((a) => a.id === ref);
  if (exact) return exact;
  const named = agents.filter((a) => a.name === ref);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    const running = named.filter((a) => a.state === "running");
    if (running.length === 1) return running[0]!;
    throw new AgentAmbiguousError(ref, "name", named);
  }
  const prefixed = agents.filter((a) => a.id.startsWith(ref));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) throw new AgentAmbiguousError(ref, "id prefix", prefixed);
  throw new AgentNotFoundError(ref);
}

/** Resolve `ref` with one `agents.list {all: true}` (read-only: rides in the handshake on a fresh client). */
export async function resolveAgentRef(
  client: { listAgents(options: { all?: boolean }): Promise<AgentInfo[]> },
  ref: string,
): Promise<AgentInfo> {
  return matchAgentRef(await client.listAgents({ all: true }), ref);
}
