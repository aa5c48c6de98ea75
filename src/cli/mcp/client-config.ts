/**
 * `paseo mcp config --client …`: the exact snippet (or command) that registers `paseo mcp` with an assistant. It
 * names hosts, an offer *file* or a home — never a pairing link or offer text: an assistant's config file is read by
 * the assistant, synced, shared in screenshots; a link in it is a key to the machine.
 */
import { PaseoError } from "../../protocol/errors.js";

export const MCP_CLIENTS = ["claude-code", "cursor", "opencode", "claude-desktop"] as const;
export type McpClientName = (typeof MCP_CLIENTS)[number];

export class UnknownMcpClientError extends PaseoError {
  constructor(name: string) {
    super("BAD_PARAMS", `unknown --client "${name.slice(0, 40)}": use one of ${MCP_CLIENTS.join(", ")}`);
  }
}

export interface McpConfigRequest {
  client: McpClientName;
  /** The name the assistant shows for the server (default "paseo"). */
  serverName: string;
  /** The program that starts paseo ("paseo", or an absolute path). */
  command: string;
  /** Its arguments: `mcp` and the target and mode flags. */
  args: string[];
}

export interface McpConfigSnippet {
  /** What to run or paste. */
  text: string;
  /** Where it goes (a sentence). */
  where: string;
}

export function isMcpClient(name: string): name is McpClientName {
  return (MCP_CLIENTS as readonly string[]).includes(name);
}

/** A word for a POSIX shell: as is when it is plainly safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Apps started from a dock or menu do not see the PATH a shell sets up (nvm, ~/.local/bin). */
function pathHint(command: string): string {
  return command.includes("/") || command.includes("\\")
    ? ""
    : `; if it cannot start \`${command}\`, pass --command "$(command -v ${command})" for an absolute path`;
}

export function mcpConfigSnippet(req: McpConfigRequest): McpConfigSnippet {
  const { serverName, command, args } = req;
  switch (req.client) {
    case "claude-code":
      return {
        text: ["claude", "mcp", "add", serverName, "--", command, ...args].map(shellWord).join(" "),
        where: "run it in a shell (add --scope user after `add` to have it in every project)",
      };
    case "cursor":
      return {
        text: JSON.stringify({ mcpServers: { [serverName]: { command, args } } }, null, 2),
        where: `merge it into ~/.cursor/mcp.json (every project) or .cursor/mcp.json (one project)${pathHint(command)}`,
      };
    case "claude-desktop":
      return {
        text: JSON.stringify({ mcpServers: { [serverName]: { command, args } } }, null, 2),
        where: `merge it into claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\), then restart Claude Desktop${pathHint(command)}`,
      };
    case "opencode":
      return {
        text: JSON.stringify(
          {
            $schema: "https://opencode.ai/config.json",
            mcp: { [serverName]: { type: "local", command: [command, ...args], enabled: true } },
          },
          null,
          2,
        ),
        where: "merge it into opencode.json in the project, or ~/.config/opencode/opencode.json",
      };
  }
}
