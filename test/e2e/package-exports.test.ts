/** `import { DaemonClient, parseOffer, buildRelayUrl } from "paseo"` works from a fresh project, with types. */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./harness.js";

describe("package exports", () => {
  it("resolves the root and subpath exports at run time and for TypeScript", () => {
    const dir = mkdtempSync(join(tmpdir(), "paseo-consumer-"));
    try {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(ROOT, join(dir, "node_modules", "paseo"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const code = `
        import { DaemonClient, parseOffer, buildRelayUrl, DaemonOfflineError, HandshakeError } from "paseo";
        import { HandshakeError as ProtocolHandshakeError } from "paseo/protocol";
        import { startDaemon } from "paseo/daemon";
        import { startRelay } from "paseo/relay";
        const url: string = buildRelayUrl({ endpoint: "127.0.0.1:1", tls: false }, "client", "abc");
        console.log(typeof DaemonClient, typeof parseOffer, typeof startDaemon, typeof startRelay, new DaemonOfflineError().code, url);
        // One class per failure: a HandshakeError raised by the Noise engine is the one \`paseo\` exports.
        console.log(HandshakeError === ProtocolHandshakeError, new ProtocolHandshakeError() instanceof HandshakeError);
      `;
      writeFileSync(join(dir, "main.ts"), code);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "NodeNext",
            moduleResolution: "NodeNext",
            target: "ES2022",
            strict: true,
            outDir: "out",
            skipLibCheck: true,
            types: [],
          },
        }),
      );
      execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], { stdio: "pipe" });
      const out = execFileSync(process.execPath, [join(dir, "out/main.js")], { encoding: "utf8" });
      expect(out.trim()).toBe(
        "function function function function DAEMON_OFFLINE ws://127.0.0.1:1/v1/ws?role=client&serverId=abc\ntrue true",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
