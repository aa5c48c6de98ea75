/**
 * Issue 14, browser: terminal agents open in a real terminal (xterm.js on the SDK's client.attach), against a real
 * relay and daemon with real PTYs. New agent starts a terminal by default; typing reaches bash and its output comes
 * back; Ctrl-C interrupts the foreground program; the panel's size is the PTY's (writer's size wins); two pages: one
 * writer, one watcher, "Take control" and "Watch" move the lane; on a phone the extra-keys bar's sticky Ctrl works.
 * Zero console errors throughout (the CSP is the relay's strict one).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPage, removeHomes, SKIP_BROWSER, startBrowserAndStack, waitFor, type Stack } from "./helpers.js";

let browser: Browser | undefined;
let stack: Stack;
const started: string[] = [];

beforeAll(async () => {
  if (!SKIP_BROWSER) ({ browser, stack } = await startBrowserAndStack());
});
afterAll(async () => {
  for (const id of started) await stack?.daemon.agents.stop(id).catch(() => undefined);
  await browser?.close();
  await stack?.close();
  await removeHomes();
});

const ROWS = ".agent-view .terminal .xterm-rows";

/** The terminal's rows as lines (trailing blanks trimmed). */
async function screen(page: Page): Promise<string[]> {
  return (await page.locator(ROWS).innerText()).split("\n").map((l) => l.replace(/\s+$/, ""));
}

/** Wait until some row of the terminal matches `re`. */
async function waitForRow(page: Page, re: RegExp, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ([sel, src]) =>
      [...(document.querySelector(sel!)?.children ?? [])].some((row) => new RegExp(src!).test(row.textContent ?? "")),
    [ROWS, re.source],
    { timeout },
  );
}

async function startBash(name: string): Promise<string> {
  const agent = await stack.daemon.agents.run({
    argv: ["bash", "--norc", "--noprofile"],
    name,
    tty: true,
    env: { PS1: "$ " },
  });
  started.push(agent.id);
  return agent.id;
}

async function openAgent(page: Page, id: string): Promise<void> {
  await page.goto(stack.link);
  await page.waitForSelector('.state[data-state="connected"]');
  await page.click(`.agent[data-id="${id}"] .agent-open`);
  await page.waitForSelector('.agent-view[data-kind="terminal"]:not([data-lane="attaching"])');
}

/** Children of `pid` named `name`, from /proc (no procps needed on a fresh machine). */
function childrenNamed(pid: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …" — comm may contain spaces, so split after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === name && ppid === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Wait until the agent's bash runs `sleep` in the foreground (so Ctrl-C is tested against it, not the prompt). */
async function sleepRunning(id: string): Promise<void> {
  const pid = (await stack.daemon.agents.get(id)).pid!;
  await waitFor(() => childrenNamed(pid, "sleep").length > 0, 5000, "sleep to start under the agent's bash");
}

const ignorable = (problems: string[]) => problems.filter((p) => !/WebSocket connection to .* failed/.test(p));

describe.skipIf(SKIP_BROWSER)("terminal agents in the browser", () => {
  it("New agent starts a terminal by default; typing reaches bash; Ctrl-C interrupts; the PTY follows the panel", async () => {
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(stack.link);
      await page.waitForSelector('.state[data-state="connected"]');
      await page.click('button[data-action="new"]');
      await page.fill('input[name="command"]', "PS1='$ ' exec bash --norc --noprofile");
      await page.fill('input[name="name"]', "browser-bash");
      await page.click('.new-agent button[type="submit"]');
      // Starting an agent spawns its host process: allow for a loaded machine.
      await page.waitForSelector('.agent-view[data-kind="terminal"][data-lane="writer"]', { timeout: 20_000 });
      const id = (await page.getAttribute(".agent-view", "data-id"))!;
      started.push(id);
      expect((await stack.daemon.agents.get(id)).tty).toBe(true);
      expect(await page.locator(".lane-state").innerText()).toMatch(/You have control/);
      expect(await page.locator('button[data-action="lane"]').innerText()).toBe("Watch");
      await waitForRow(page, /^\$/);

      // Keys go to bash; the arithmetic proves the shell (not an echo of our keys) answered.
      await page.click(".agent-view .terminal");
      await page.keyboard.type("echo hi-$((6*7))");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^hi-42$/);

      // Tab, Esc and arrows are bash's: Tab completes `ech`, Esc . yanks the last argument, ↑ recalls the command
      // (output rows are exactly `keys-ten`; the command lines start with the prompt).
      await page.keyboard.type("ech");
      await page.keyboard.press("Tab");
      await page.keyboard.type(" keys-ten");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^keys-ten$/);
      await page.keyboard.type("echo ");
      await page.keyboard.press("Escape");
      await page.keyboard.type(".");
      await page.keyboard.press("Enter");
      await page.keyboard.press("ArrowUp");
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        (sel) =>
          [...(document.querySelector(sel)?.children ?? [])].filter((r) => r.textContent?.trim() === "keys-ten")
            .length === 3,
        ROWS,
      );

      // Ctrl-C reaches the foreground program: sleep 100 ends at once and the prompt is back.
      await page.keyboard.type("sleep 100");
      await page.keyboard.press("Enter");
      await sleepRunning(id);
      await page.keyboard.press("Control+C");
      await page.keyboard.type("echo after-$((2+3))");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^after-5$/, 5000);
      expect((await screen(page)).some((l) => /\^C/.test(l))).toBe(true);

      // Paste (a clipboard paste event, as the browser sends it) goes to the program like typing.
      await page.evaluate(() => {
        const data = new DataTransfer();
        data.setData("text/plain", "echo pasted-$((5+5))");
        const target = document.querySelector(".agent-view .terminal .xterm-helper-textarea")!;
        target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      });
      await page.keyboard.press("Enter");
      await waitForRow(page, /^pasted-10$/);

      // Alternate screen (what full-screen programs use): drawn over, then the shell's screen comes back.
      await page.keyboard.type(
        "printf '\\e[?1049h\\e[2J\\e[H'; echo full-screen-$((4+4)); read x; printf '\\e[?1049l'",
      );
      await page.keyboard.press("Enter");
      await waitForRow(page, /^full-screen-8$/);
      expect((await screen(page)).some((l) => l === "hi-42")).toBe(false);
      await page.keyboard.press("Enter");
      await waitForRow(page, /^hi-42$/);
      expect((await screen(page)).some((l) => l.startsWith("full-screen-8"))).toBe(false);

      // The writer's size wins: the PTY has the panel's size, and follows it.
      const before = await stack.daemon.agents.get(id);
      expect(before.cols).toBeGreaterThan(60);
      await page.setViewportSize({ width: 900, height: 700 });
      await waitFor(
        async () => (await stack.daemon.agents.get(id)).cols! < before.cols!,
        5000,
        "the PTY to shrink with the panel",
      );
      const after = await stack.daemon.agents.get(id);
      await page.keyboard.type("stty size");
      await page.keyboard.press("Enter");
      await waitForRow(page, new RegExp(`^${after.rows} ${after.cols}$`));

      // Ctrl-C with a selection copies it (and does not interrupt); the clipboard gets exactly the word.
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.relay.url });
      await page.keyboard.type("echo copy-me-$((1+1))");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^copy-me-2$/);
      const index = (await screen(page)).indexOf("copy-me-2");
      const box = (await page.locator(`${ROWS} > div`).nth(index).boundingBox())!;
      await page.mouse.dblclick(box.x + 12, box.y + box.height / 2);
      await page.keyboard.press("Control+C");
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("copy-me-2");
      expect((await screen(page)).filter((l) => l !== "").at(-1)).toBe("$");

      // The agent ends: the view says how, keeps its last screen, and nobody can type or take control any more.
      await page.keyboard.type("exit 3");
      await page.keyboard.press("Enter");
      await page.waitForSelector('.agent-view[data-state="exited"][data-lane="ended"]');
      await waitForRow(page, /— agent exited \(3\) —/);
      expect(await page.isVisible('button[data-action="lane"]')).toBe(false);
      expect(await page.isVisible('button[data-action="stop"]')).toBe(false);
      expect(await page.locator(".lane-state").innerText()).toMatch(/has ended/);
      expect(ignorable(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("two pages: one writer, one watcher; Take control and Watch move the lane", async () => {
    const id = await startBash("shared-bash");
    const a = await newPage(browser!);
    const b = await newPage(browser!);
    try {
      await openAgent(a.page, id);
      expect(await a.page.getAttribute(".agent-view", "data-lane")).toBe("writer");
      await openAgent(b.page, id);
      expect(await b.page.getAttribute(".agent-view", "data-lane")).toBe("watcher");
      expect(await b.page.locator(".lane-state").innerText()).toMatch(/another client has control/);
      expect(await b.page.locator('button[data-action="lane"]').innerText()).toBe("Take control");

      // The watcher's keys go nowhere; the writer's output reaches both.
      await b.page.click(".agent-view .terminal");
      await b.page.keyboard.type("watcher-typed");
      await a.page.click(".agent-view .terminal");
      await a.page.keyboard.type("echo one-$((1+1))");
      await a.page.keyboard.press("Enter");
      await waitForRow(a.page, /^one-2$/);
      await waitForRow(b.page, /^one-2$/);
      expect((await screen(a.page)).join("\n")).not.toContain("watcher-typed");

      // B takes control: A is told and watches; B's keys now reach bash.
      await b.page.click('button[data-action="lane"]');
      await b.page.waitForSelector('.agent-view[data-lane="writer"]');
      await a.page.waitForSelector('.agent-view[data-lane="watcher"]');
      expect(await a.page.locator(".lane-state").innerText()).toBe(
        "Another client took control: you are watching now.",
      );
      await b.page.click(".agent-view .terminal");
      await b.page.keyboard.type("echo two-$((2+2))");
      await b.page.keyboard.press("Enter");
      await waitForRow(a.page, /^two-4$/);
      await waitForRow(b.page, /^two-4$/);

      // B gives it up ("Watch"): nobody writes; A can take it back.
      await b.page.click('button[data-action="lane"]');
      await b.page.waitForSelector('.agent-view[data-lane="watcher"]');
      await a.page.waitForFunction(() =>
        /nobody has control/.test(document.querySelector(".lane-state")?.textContent ?? ""),
      );
      await a.page.click('button[data-action="lane"]');
      await a.page.waitForSelector('.agent-view[data-lane="writer"]');
      expect(ignorable(a.problems)).toEqual([]);
      expect(ignorable(b.problems)).toEqual([]);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it("connection lost: the terminal is read-only and marked stale, then re-attaches where it stopped", async () => {
    const id = await startBash("resume-bash");
    const { page, problems, context } = await newPage(browser!);
    try {
      await openAgent(page, id);
      await waitForRow(page, /^\$/);
      await page.click(".agent-view .terminal");
      await page.keyboard.type("echo before-$((1+6))");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^before-7$/);
      await stack.restartRelay(async () => {
        await page.waitForSelector('.screen[data-connection="stale"]', { timeout: 5000 });
        expect(await page.isDisabled('button[data-action="lane"]')).toBe(true);
        expect(await page.locator(".agent-view .card-head .badge").innerText()).toBe("last seen running");
        expect(await page.evaluate(() => document.querySelectorAll(".extra-keys button:not([disabled])").length)).toBe(
          0,
        );
      });
      await page.waitForSelector('.screen[data-connection="live"]', { timeout: 15_000 });
      await page.waitForFunction(
        () => !(document.querySelector('button[data-action="lane"]') as HTMLButtonElement).disabled,
        undefined,
        { timeout: 10_000 },
      );
      await page.click(".agent-view .terminal");
      await page.keyboard.type("echo after-$((1+7))");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^after-8$/);
      // Re-attached from the last byte: the earlier output is there once, nothing repeated.
      expect((await screen(page)).filter((l) => l === "before-7")).toHaveLength(1);
      expect(ignorable(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("an ended terminal agent opens on its last screen, read-only", async () => {
    const agent = await stack.daemon.agents.run({
      argv: ["printf '\\033[32mdone-%s\\033[0m\\n' $((7*6)); exit 4"],
      shell: true,
      name: "ended-tty",
      tty: true,
    });
    started.push(agent.id);
    await waitFor(
      async () => (await stack.daemon.agents.get(agent.id)).state !== "running",
      10_000,
      "the agent to end",
    );
    const { page, problems, context } = await newPage(browser!);
    try {
      await page.goto(stack.link);
      await page.click(`.agent[data-id="${agent.id}"] .agent-open`);
      await page.waitForSelector('.agent-view[data-kind="terminal"][data-lane="ended"]');
      await waitForRow(page, /^done-42$/);
      expect(await page.locator(".agent-view .card-head .badge").innerText()).toBe("exited (4)");
      expect(await page.isVisible('button[data-action="lane"]')).toBe(false);
      expect(ignorable(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("phone: full-width terminal with the extra-keys bar; sticky Ctrl then c interrupts", async () => {
    const id = await startBash("phone-bash");
    const { page, problems, context } = await newPage(browser!, { width: 390, height: 844, mobile: true });
    try {
      await openAgent(page, id);
      expect(await page.isVisible(".extra-keys")).toBe(true);
      expect(await page.isVisible(".sidebar")).toBe(false);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await waitForRow(page, /^\$/);
      await page.click(".agent-view .terminal");
      await page.keyboard.type("sleep 100");
      await page.keyboard.press("Enter");
      await sleepRunning(id);
      await page.tap('.extra-keys [data-key="ctrl"]');
      expect(await page.getAttribute('.extra-keys [data-key="ctrl"]', "aria-pressed")).toBe("true");
      await page.keyboard.type("c");
      expect(await page.getAttribute('.extra-keys [data-key="ctrl"]', "aria-pressed")).toBe("false");
      // The arrows reach the program too: ← moves bash's cursor before the last character.
      await page.keyboard.type("echo phone-9");
      await page.tap('.extra-keys [data-key="left"]');
      await page.keyboard.type("1");
      await page.keyboard.press("Enter");
      await waitForRow(page, /^phone-19$/, 5000);
      expect(ignorable(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
