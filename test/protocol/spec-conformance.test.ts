/**
 * docs/protocol.md is the contract: a stranger builds a peer from it alone. This test reads it and fails when the
 * code uses something it does not list — a close code, an RPC method or parameter, a result type or field, a state
 * or capability, an RPC error code, a wire constant or a limit — or when it lists something the code no longer has.
 * Each failure says what is missing and where to document it. Limits are also checked the other way: the value in
 * §10 is the code's, and the parameter error at the limit names it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CloseCode, closeReason } from "../../src/protocol/close-codes.js";
import { MessageTooLargeError } from "../../src/protocol/frame.js";
import { MessageType } from "../../src/protocol/frame.js";
import { MuxType } from "../../src/protocol/relay-mux.js";
import { READ_ONLY_METHODS, RpcErrorCode, decodeControl } from "../../src/protocol/rpc.js";
import { METHOD_NAMES, ParamsError, validateParams } from "../../src/protocol/rpc-params.js";
import { CAPABILITIES } from "../../src/daemon/server-info.js";
import { LIMITS, WIRE_CONSTANTS, unregisteredConstants } from "./spec-limits.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SPEC = "docs/protocol.md";
const spec = readFileSync(join(ROOT, SPEC), "utf8");
const src = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** The text of "## n." with its subsections. */
function section(n: number): string {
  const start = spec.search(new RegExp(`^## ${n}\\. `, "m"));
  if (start < 0) throw new Error(`${SPEC} has no section "## ${n}."`);
  const next = spec.slice(start + 1).search(/^## \d+\. /m);
  return next < 0 ? spec.slice(start) : spec.slice(start, start + 1 + next);
}

/** Cells of every table row in `text` ("\|" inside a cell is kept). */
function rows(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("|") && !/^\|[-| ]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

/** First-column values (between backticks) of the table under the heading "#### `name`" in `text`. */
function namedTable(text: string, name: string): string[] | undefined {
  const at = text.indexOf(`#### \`${name}\``);
  if (at < 0) return undefined;
  const body = text.slice(at).split(/\n#{2,4} /)[0]!;
  return rows(body)
    .map((r) => /^`([^`]+)`/.exec(r[0]!)?.[1])
    .filter((v): v is string => v !== undefined);
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const s8 = section(8);

describe(`${SPEC} §4 lists every close code`, () => {
  const table = new Map(
    rows(section(4))
      .filter((r) => /^\d+$/.test(r[0]!))
      .map((r) => [Number(r[0]), r[1]]),
  );

  it("each code in src/protocol/close-codes.ts has its row, with its name, and a short reason", () => {
    const problems: string[] = [];
    for (const [name, code] of Object.entries(CloseCode)) {
      if (table.get(code) !== name)
        problems.push(
          `close code ${code} ${name} (src/protocol/close-codes.ts): add the row "| ${code} | ${name} | sent by | meaning — client error |" to ${SPEC} §4`,
        );
      if (!closeReason[code])
        problems.push(`close code ${code} ${name}: add its reason to closeReason in src/protocol/close-codes.ts`);
    }
    if (table.get(1000) !== "NORMAL")
      problems.push(`1000 (used by the daemon and clients): add "| 1000 | NORMAL | … |" to ${SPEC} §4`);
    expect(problems).toEqual([]);
  });

  it("literal close codes in src/ are in §4, and every row of §4 is a code the code uses", () => {
    const problems: string[] = [];
    for (const file of filesUnder("src")) {
      for (const line of src(file)
        .split("\n")
        .filter((l) => !/^\s*(\*|\/\/)/.test(l))) {
        const m = /\bclose\(\s*(\d{4})\b/.exec(line);
        if (m && !table.has(Number(m[1])))
          problems.push(`${file} closes with ${m[1]}: add it to ${SPEC} §4 (or use a CloseCode)`);
      }
    }
    const known = new Set<number>([1000, ...Object.values(CloseCode)]);
    for (const code of table.keys())
      if (!known.has(code))
        problems.push(
          `${SPEC} §4 lists ${code}, which src/protocol/close-codes.ts does not define: remove the row or add the code`,
        );
    expect(problems).toEqual([]);
  });
});

describe(`${SPEC} §8 lists every RPC method, parameter, result type and error code`, () => {
  const methodTable = s8.slice(s8.indexOf("| method | params | result |")).split("\n\n")[0]!;
  const methodRows = new Map(
    rows(methodTable)
      .map((r) => ({ m: /^`([\w.]+)`( RO)?$/.exec(r[0]!), r }))
      .filter((x) => x.m)
      .map(({ m, r }) => [m![1]!, { ro: m![2] !== undefined, params: r[1]!, result: r[2]! }]),
  );

  it("each method of Methods / METHOD_NAMES has a row; RO marks match READ_ONLY_METHODS (and §6's early-data list)", () => {
    const problems: string[] = [];
    for (const name of METHOD_NAMES) {
      const row = methodRows.get(name);
      if (!row)
        problems.push(
          `method ${name} (src/protocol/rpc.ts Methods): add "| \`${name}\`${READ_ONLY_METHODS.has(name) ? " RO" : ""} | params | result |" to the method table of ${SPEC} §8`,
        );
      else if (row.ro !== READ_ONLY_METHODS.has(name))
        problems.push(
          `method ${name}: READ_ONLY_METHODS says ${READ_ONLY_METHODS.has(name) ? "" : "not "}read-only; fix its "RO" mark in ${SPEC} §8`,
        );
    }
    for (const name of methodRows.keys())
      if (!METHOD_NAMES.includes(name as never))
        problems.push(`${SPEC} §8 documents ${name}, which the daemon does not serve: remove the row`);
    const early = /read-only \(([^)]*)\)/.exec(section(6))?.[1] ?? "";
    const listed = [...early.matchAll(/`([\w.]+)`/g)].map((m) => m[1]).sort();
    if (JSON.stringify(listed) !== JSON.stringify([...READ_ONLY_METHODS].sort())) {
      problems.push(
        `${SPEC} §6 "Early data" lists read-only methods (${listed.join(", ")}); READ_ONLY_METHODS is ${[...READ_ONLY_METHODS].join(", ")}`,
      );
    }
    expect(problems).toEqual([]);
  });

  it("each parameter a method accepts (its only(p, [...]) list in src/protocol) is named in its row", () => {
    const accepted = new Map<string, string[]>();
    for (const file of filesUnder("src/protocol")) {
      for (const m of src(file).matchAll(/^\s*(?:"([\w.]+)"|(\w+)): \(p\) =>[\s\S]*?\bonly\(p, \[([^\]]*)\]\)/gm)) {
        accepted.set(
          m[1] ?? m[2]!,
          [...m[3]!.matchAll(/"(\w+)"/g)].map((x) => x[1]!),
        );
      }
    }
    const problems: string[] = [];
    for (const name of METHOD_NAMES) {
      const params = accepted.get(name);
      if (!params) {
        problems.push(
          `cannot find ${name}'s parameter list: its validator in src/protocol must start with only(p, ["param", …])`,
        );
        continue;
      }
      const cell = methodRows.get(name)?.params ?? "";
      for (const p of params)
        if (!new RegExp(`(^|\\W)${p}(\\W|$)`).test(cell))
          problems.push(
            `${name} accepts "${p}": name it (with its type) in the params column of ${name}'s row in ${SPEC} §8, and its limit in §10`,
          );
    }
    expect(problems).toEqual([]);
  });

  it("each result type (exported interface of src/protocol/rpc*.ts) has a §8.1 table with exactly its fields", () => {
    const ENVELOPES = new Set(["Methods", "RpcRequest", "RpcErrorBody", "RpcEvent", "Welcome"]); // spelled out in §8's message list
    const problems: string[] = [];
    for (const file of filesUnder("src/protocol").filter((f) => /\/rpc[\w-]*\.ts$/.test(f))) {
      for (const m of src(file).matchAll(/^export interface (\w+)[^{]*\{([\s\S]*?)^\}/gm)) {
        if (ENVELOPES.has(m[1]!)) continue;
        const fields = [...m[2]!.matchAll(/^ {2}(\w+)\??:/gm)].map((f) => f[1]!);
        const documented = namedTable(s8, m[1]!);
        if (!documented) {
          problems.push(
            `result type ${m[1]} (${file}): add "#### \`${m[1]}\`" with a | field | type | meaning | table to ${SPEC} §8.1`,
          );
          continue;
        }
        for (const f of fields)
          if (!documented.includes(f))
            problems.push(
              `${m[1]}.${f} (${file}): add a row "| \`${f}\` | type | meaning |" to the ${m[1]} table in ${SPEC} §8.1`,
            );
        for (const f of documented)
          if (!fields.includes(f))
            problems.push(`${SPEC} §8.1 documents ${m[1]}.${f}, which ${file} does not have: remove the row`);
      }
      for (const m of src(file).matchAll(/^export type (\w+) = ("[^"]*"(?:\s*\|\s*"[^"]*")*);/gm)) {
        const values = [...m[2]!.matchAll(/"([^"]*)"/g)].map((v) => v[1]!);
        const documented = namedTable(s8, m[1]!);
        // Without its own table, each value must at least appear as a JSON string in §8 (e.g. an event kind).
        const missing = values.filter((v) => (documented ? !documented.includes(v) : !s8.includes(`"${v}"`)));
        for (const v of missing)
          problems.push(
            `${m[1]} value "${v}" (${file}): add "| \`${v}\` | meaning |" under "#### \`${m[1]}\`" in ${SPEC} §8.1`,
          );
        for (const v of documented ?? [])
          if (!values.includes(v)) problems.push(`${SPEC} §8.1 documents ${m[1]} "${v}", which ${file} does not have`);
      }
    }
    const capRow =
      rows(s8)
        .find((r) => r[0] === "`capabilities`")
        ?.join("|") ?? "";
    for (const c of CAPABILITIES)
      if (!capRow.includes(`\`${c}\``))
        problems.push(
          `capability "${c}" (src/daemon/server-info.ts): list it in the \`capabilities\` row of ServerInfo in ${SPEC} §8.1`,
        );
    expect(problems).toEqual([]);
  });

  it("each RPC error code a client can receive is in the §8.2 table", () => {
    // Files whose errors never reach a client: the daemon's own files, relay link, local server and CLI-side pairing.
    const LOCAL_ONLY = [
      "home.ts",
      "home-safety.ts",
      "offer-store.ts",
      "offer-record.ts",
      "offers-file.ts",
      "offers-file-format.ts",
      "offer-uses.ts",
      "runtime-files.ts",
      "identity.ts",
      "relay-link.ts",
      "local-server.ts",
      "pairing.ts",
      "daemon.ts",
      "logger.ts",
      "relay-host.ts",
      "device-store.ts",
      "devices-file-format.ts",
    ];
    const codes = new Map<string, string>();
    for (const c of Object.values(RpcErrorCode)) codes.set(c, "src/protocol/rpc.ts RpcErrorCode");
    codes.set(new ParamsError("").code, "src/protocol/rpc-params.ts ParamsError");
    codes.set(new MessageTooLargeError(1, 0).code, "src/protocol/frame.ts MessageTooLargeError (an oversized result)");
    const agentCodes = /export type AgentErrorCode = ([^;]*);/.exec(src("src/daemon/agents/errors.ts"))?.[1] ?? "";
    for (const m of agentCodes.matchAll(/"(\w+)"/g)) codes.set(m[1]!, "src/daemon/agents/errors.ts AgentErrorCode");
    for (const file of filesUnder("src/daemon").filter((f) => !LOCAL_ONLY.includes(relative("src/daemon", f)))) {
      for (const m of src(file).matchAll(/(?:Error|super)\(\s*"([A-Z][A-Z0-9_]+)"|\bcode: "([A-Z][A-Z0-9_]+)"/g))
        codes.set(m[1] ?? m[2]!, file);
    }
    const table = rows(section(8))
      .map((r) => /^`([A-Z][A-Z0-9_]+)`$/.exec(r[0]!)?.[1])
      .filter(Boolean);
    const problems = [...codes]
      .filter(([code]) => !table.includes(code))
      .map(
        ([code, where]) =>
          `RPC error code ${code} (${where}): add "| \`${code}\` | methods | meaning / what to do |" to ${SPEC} §8.2 (or, if it never reaches a client, add its file to LOCAL_ONLY in this test)`,
      );
    for (const code of table)
      if (!codes.has(code!)) problems.push(`${SPEC} §8.2 lists ${code}, which no daemon code raises: remove the row`);
    expect(problems).toEqual([]);
  });
});

describe(`${SPEC} wire constants and §10 limits`, () => {
  it("message types (§7) and relay mux types (§5) are listed with their values", () => {
    const problems: string[] = [];
    for (const [name, value] of Object.entries(MessageType)) {
      if (!rows(section(7)).some((r) => r[0] === String(value) && r[1] === name))
        problems.push(
          `message type ${value} ${name} (src/protocol/frame.ts): add "| ${value} | ${name} | body |" to ${SPEC} §7`,
        );
    }
    for (const [name, value] of Object.entries(MuxType)) {
      const hex = `0x${value.toString(16).padStart(2, "0")}`;
      if (
        !section(5)
          .split("\n")
          .some((l) => l.includes(hex) && new RegExp(`\\b${name}\\b`).test(l))
      )
        problems.push(`mux type ${hex} ${name} (src/protocol/relay-mux.ts): document it in ${SPEC} §5.2/§5.3`);
    }
    for (const c of WIRE_CONSTANTS)
      if (!section(c.section).includes(c.text))
        problems.push(`${c.name} = ${c.value} (${c.source}): ${SPEC} §${c.section} must say "${c.text}"`);
    expect(problems).toEqual([]);
  });

  it("every limit constant is registered, and §10 shows each with the code's value", async () => {
    const problems = await unregisteredConstants();
    const table = rows(section(10));
    for (const l of LIMITS) {
      const row = table.find((r) => r[0] === l.row);
      if (!row)
        problems.push(
          `${l.source} = ${l.value}: add the row "| ${l.row} | ${l.shows.join(" / ")} | enforced by | on excess |" to ${SPEC} §10`,
        );
      else
        for (const text of l.shows)
          if (!row[1]!.includes(text))
            problems.push(`${SPEC} §10 "${l.row}" says "${row[1]}", but ${l.source} makes it "${text}"`);
    }
    expect(problems).toEqual([]);
  });

  it("each parameter limit is enforced at the documented value, and its BAD_PARAMS names the limit", () => {
    const problems: string[] = [];
    for (const l of LIMITS) {
      if (!l.probe) continue;
      const { method, at, over, names } = l.probe;
      try {
        validateParams(method, at);
      } catch (err) {
        problems.push(`${l.row}: ${method} refuses the documented limit ${l.value}: ${(err as Error).message}`);
      }
      try {
        validateParams(method, over);
        problems.push(`${l.row}: ${method} accepts more than the documented ${l.value}`);
      } catch (err) {
        if (!(err instanceof ParamsError) || !err.message.includes(names))
          problems.push(`${l.row}: the error for exceeding it must name ${names}; it says: ${(err as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("a request's id and method name stop at the documented limits (beyond them it is not a request: 4108)", () => {
    const req = (id: number, method: string) =>
      new TextEncoder().encode(JSON.stringify({ t: "req", id, method, params: {} }));
    expect(() => decodeControl(req(2 ** 31 - 1, "m".repeat(64)))).not.toThrow();
    expect(() => decodeControl(req(2 ** 31, "ping"))).toThrow();
    expect(() => decodeControl(req(1, "m".repeat(65)))).toThrow();
  });
});
