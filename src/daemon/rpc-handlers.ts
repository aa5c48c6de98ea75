/**
 * RPC method handlers: validated params in, JSON-able result out. Subscription methods (agents.logs /
 * agents.unsubscribe) are connection-scoped and live in connection-streams.ts; terminal.* in terminal-attachments.ts.
 */
import type { AgentManager } from "./agents/index.js";
import type { ServerInfoSource } from "./server-info.js";
import type { MethodName, Params, Result } from "../protocol/rpc.js";
import { fromBase64Url, toBase64Url } from "../protocol/encoding.js";
import { ParamsError } from "../protocol/rpc-params.js";

export interface HandlerContext {
  agents: AgentManager;
  info: ServerInfoSource;
}

type Handler<M extends MethodName> = (params: Params<M>) => Promise<Result<M>>;
type Stateless = Exclude<MethodName, "agents.logs" | "agents.unsubscribe" | `terminal.${string}`>;

export function createHandlers(ctx: HandlerContext): { [M in Stateless]: Handler<M> } {
  const { agents } = ctx;
  return {
    "server.info": () => ctx.info.get(),
    ping: async () => ({}),
    "agents.list": async (p) => agents.list({ all: p.all }),
    "agents.get": async (p) => agents.get(p.id),
    "agents.run": async (p) => agents.run(p),
    "agents.input": async (p) => {
      const data = fromBase64Url(p.dataB64);
      if (!data) throw new ParamsError(`"dataB64" is not valid base64url`);
      return { bytes: await agents.sendInput(p.id, data) };
    },
    "agents.stop": async (p) => agents.stop(p.id, p.graceMs),
    exec: async (p) => {
      const r = await agents.exec(p);
      return {
        exitCode: r.exitCode,
        signal: r.signal,
        stdoutB64: toBase64Url(r.stdout),
        stderrB64: toBase64Url(r.stderr),
        truncated: r.truncated,
        timedOut: r.timedOut,
        durationMs: r.durationMs,
      };
    },
  };
}
