/**
 * Reads the shell commands out of README.md for test/e2e/readme.test.ts, and turns the output shown under each into
 * loose line patterns.
 *
 * What counts as a command: in the sections "## Install…" and "## Walkthrough…" (up to the next "## " heading),
 *   - the setup block: the first ```sh block of the Install section, one command per line (`# comments` dropped);
 *   - every line starting with "$ " inside a fenced block (a trailing "\" continues it on the next line). The lines
 *     after it, up to the next "$ " line or the end of the block, are its output as the README shows it.
 * Commands shown elsewhere (the Commands reference, failure examples) are reference, not a sequence to run; so is
 * the interactive "## Terminals" section (`paseo attach` needs a TTY; test/e2e/attach.test.ts covers it).
 */

export interface ReadmeStep {
  /** The command exactly as written after "$ ". */
  command: string;
  /** Output lines as shown (blank lines and "…" elisions removed). */
  expected: string[];
  /** 1-based README line of the command, for failure messages. */
  line: number;
}

export interface ReadmeCommands {
  setup: string[];
  steps: ReadmeStep[];
}

const FENCE = /^```(\S*)\s*$/;

function sectionLines(readme: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let inSection = false;
  let inFence = false;
  readme.split("\n").forEach((text, i) => {
    if (FENCE.test(text)) inFence = !inFence;
    if (!inFence && /^## /.test(text)) inSection = /^## (Install|Walkthrough)/.test(text);
    if (inSection) out.push({ text, line: i + 1 });
  });
  return out;
}

export function parseReadme(readme: string): ReadmeCommands {
  const setup: string[] = [];
  const steps: ReadmeStep[] = [];
  let fence: string | undefined; // the fence's language while inside one
  let setupSeen = false;
  let current: ReadmeStep | undefined;
  let continuing = false;
  for (const { text, line } of sectionLines(readme)) {
    const f = FENCE.exec(text);
    if (f) {
      if (fence === undefined) fence = f[1]!;
      else {
        if (fence === "sh") setupSeen = true;
        fence = undefined;
        current = undefined;
      }
      continue;
    }
    if (fence === undefined) continue;
    if (fence === "sh" && !setupSeen) {
      const command = text.replace(/\s+#.*$/, "").trim();
      if (command !== "") setup.push(command);
      continue;
    }
    if (continuing && current) {
      current.command += `\n${text}`;
      continuing = text.endsWith("\\");
      continue;
    }
    if (text.startsWith("$ ")) {
      current = { command: text.slice(2), expected: [], line };
      steps.push(current);
      continuing = text.endsWith("\\");
    } else if (current && text.trim() !== "" && text.trim() !== "…") {
      current.expected.push(text);
    }
  }
  return { setup, steps };
}

/**
 * A shown output line as a pattern for the real one. Loose where runs differ, exact elsewhere: a word holding two
 * or more digits (times, pids, ports, versions), a duration ("3s") or a word shaped like a random id (agent, offer
 * and server ids, fingerprints) matches any word; single digits ("step 1", "exited(0)", counts) must match; "…" (where the README shortens a link) matches any run of non-blank characters; other words must be
 * there as written, in order; runs of blanks (table alignment) match any run of blanks.
 */
export function linePattern(shown: string): RegExp {
  const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const randomLike = /^(?:[a-z2-7]{8}|[a-z2-7]{26}|[A-Za-z0-9_-]{16}|[a-z2-7]{4}(?:-[a-z2-7]{4}){3})$/;
  const words = shown
    .trim()
    .split(/\s+/)
    .map((w) => {
      if (w.includes("…")) return w.split("…").map(escapeRe).join("\\S*");
      const core = w.replace(/^[("'`]+|[)"'`,.:;]+$/g, "");
      if (/\d.*\d/.test(w) || randomLike.test(core) || /^\d+(?:ms|s|m|h|d)$/.test(core)) return "\\S+";
      return escapeRe(w);
    });
  return new RegExp(`^\\s*${words.join("\\s+")}\\s*$`);
}

/**
 * The shown lines that do not appear, in order, among the real ones (an empty list when all do). Real output may
 * hold more lines than shown (the README elides with "…"), but not fewer or in another order.
 */
export function missingLines(shown: string[], real: string): string[] {
  const lines = real.split("\n");
  let at = 0;
  const missing: string[] = [];
  for (const s of shown) {
    const re = linePattern(s);
    const found = lines.findIndex((l, i) => i >= at && re.test(l));
    if (found === -1) missing.push(s);
    else at = found + 1;
  }
  return missing;
}
