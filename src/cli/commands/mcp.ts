/**
 * `paseo mcp` — serve paseo's tools to an AI assistant (Claude Code, Cursor, opencode, Claude Desktop) over MCP on
 * stdio; `paseo mcp config --client …` prints how to register it. Thin: the server is ../mcp/, imported only when
 * `paseo mcp` runs, so the MCP SDK and zod never load for another command (nor for `paseo mcp config`).
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { resolveOffer } from "../../client/offer-resolve.js";
import { looksLikeOffer } from "../../protocol/offer.js";
import { PaseoError } from "../../protocol/errors.js";
import { positiveInt } from "./client.js";
import type { ClientFlags } from "../client-factory.js";
import { info } from "../output.js";

type McpFlags = Omit<ClientFlags, "host"> & { host?: string[]; readOnly?: boolean };
type ConfigFlags = {
  client: string;
  relay?: string;
  host?: string[];
  home?: string;
  readOnly?: boolean;
  name: string;
  command: string;
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  const mcp = program
    .command("mcp")
    .description("serve paseo's tools to an AI assistant over MCP (stdio); `paseo mcp config` prints how to add it")
    .option("--host <name>", "a saved host to serve (`paseo hosts`); repeat for several", collect)
    .option("--relay <link|file>", "pairing link or offer file (default: $PASEO_RELAY_OFFER, else the local daemon)")
    .option("--home <dir>", "PASEO_HOME of the local daemon (default: $PASEO_HOME or ~/.paseo)")
    .option("--timeout <seconds>", "per-request timeout", positiveInt)
    .option("--read-only", "serve only the read tools (list, output, screen, info): nothing can be started or typed")
    .addHelpText(
      "after",
      "\nExamples:\n  claude mcp add paseo -- paseo mcp\n  claude mcp add paseo -- paseo mcp --host laptop --host server\n  paseo mcp config --client cursor --host laptop",
    )
    .action(async (flags: McpFlags) => {
      const [{ targetFromFlags, targetsFromHosts, Targets }, { serveMcp }] = await Promise.all([
        import("../mcp/targets.js"),
        import("../mcp/server.js"),
      ]);
      if (flags.host?.length && flags.relay !== undefined)
        throw new PaseoError("USAGE", "--host and --relay name two ways to reach a daemon: give one");
      const { host: _hosts, ...single } = flags;
      void _hosts;
      const list = flags.host?.length ? await targetsFromHosts(flags.host) : [await targetFromFlags(single)];
      const targets = new Targets(list);
      // Only read tools when asked, or when every host is a read-only device (its daemon would refuse the rest).
      const readOnly = flags.readOnly === true || list.every((t) => t.rights === "read-only");
      await serveMcp({ targets, readOnly });
    });

  mcp
    .command("config")
    .description("print the snippet or command that registers `paseo mcp` with an assistant (never a pairing link)")
    .requiredOption("--client <name>", "claude-code, cursor, opencode or claude-desktop")
    .option("--relay <file>", "an offer file for the server to use (a file path: a link is never written to a config)")
    .option(
      "--host <name>",
      "a saved host to serve (repeat for several): the config names it, never a key or link",
      collect,
    )
    .option("--home <dir>", "PASEO_HOME of the local daemon to serve")
    .option("--read-only", "register it read-only")
    .option("--name <name>", "the server's name in the assistant", "paseo")
    .option(
      "--command <path>",
      "how the assistant starts paseo (an absolute path if it does not see your PATH)",
      "paseo",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  paseo mcp config --client claude-code\n  paseo mcp config --client cursor --relay ~/paseo-offer.json",
    )
    .action(async (own: ConfigFlags) => {
      // The CLI's root parses options anywhere on the line, so `mcp` itself takes the flags it shares with `config`
      // (--relay, --home, --read-only) even when they come after `config`: read them from both.
      const flags = { ...mcp.opts(), ...own } as ConfigFlags;
      const { isMcpClient, mcpConfigSnippet, UnknownMcpClientError } = await import("../mcp/client-config.js");
      if (!isMcpClient(flags.client)) throw new UnknownMcpClientError(flags.client);
      if (flags.host?.length && flags.relay !== undefined)
        throw new PaseoError("USAGE", "--host and --relay name two ways to reach a daemon: give one");
      if (flags.host?.length) {
        const { HostStore } = await import("../hosts/host-store.js");
        const store = HostStore.open();
        for (const h of flags.host) await store.get(h); // HOST_NOT_FOUND now, not when the assistant starts it
      }
      const args = ["mcp", ...(flags.host ?? []).flatMap((h) => ["--host", h]), ...(await relayArgs(flags.relay))];
      if (flags.home) args.push("--home", resolve(flags.home));
      if (flags.readOnly) args.push("--read-only");
      const snippet = mcpConfigSnippet({ client: flags.client, serverName: flags.name, command: flags.command, args });
      process.stdout.write(`${snippet.text}\n`);
      info(`paseo: ${snippet.where}`);
    });
}

/** `--relay <file>` for a config: an absolute path to a readable offer file; a link or offer text is refused. */
async function relayArgs(relay: string | undefined): Promise<string[]> {
  if (relay === undefined) return [];
  if (looksLikeOffer(relay))
    throw new PaseoError(
      "SECRET_IN_CONFIG",
      "a pairing link or offer text would be written into the assistant's config: save it to a file instead (`paseo daemon pair --save ~/paseo-offer.json`, mode 0600) and pass --relay <file>",
    );
  const path = resolve(relay.trim());
  await resolveOffer({ relay: path, env: {} }); // the file exists and holds a valid offer (errors never quote it)
  return ["--relay", path];
}
