/**
 * Writer/watcher lane transitions of TerminalLanes, driven directly: who holds the lane, who is told what, and the
 * named refusals. (The wire and the real PTY are covered by test/e2e/attach.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { TerminalLanes } from "../../src/daemon/terminal-lanes.js";
import { InputLimiter } from "../../src/daemon/terminal-input-limit.js";
import { TERMINAL_INPUT_MAX_BYTES } from "../../src/protocol/rpc-params.js";

function recorder() {
  const events: string[] = [];
  return {
    events,
    listener: {
      lane: (lane: string, writer: boolean, reason: string) => void events.push(`${lane}/${writer}/${reason}`),
      resize: (c: number, r: number) => void events.push(`resize ${c}x${r}`),
    },
  };
}

describe("TerminalLanes", () => {
  const connA = {};
  const connB = {};

  it("the first control attachment writes, later ones watch; others learn only changes they did not cause", () => {
    const lanes = new TerminalLanes();
    const w = recorder();
    const v = recorder();
    const watcher = lanes.attach("ag", connB, { control: true, running: true }, v.listener);
    expect(watcher.lane).toBe("writer"); // first: takes the free lane
    lanes.release(watcher);
    expect(watcher.lane).toBe("watcher");
    expect(v.events).toEqual([]); // own request: learnt from the response
    const writer = lanes.attach("ag", connA, { control: true, running: true }, w.listener);
    expect(writer.lane).toBe("writer");
    expect(v.events).toEqual(["watcher/true/writer-joined"]);
    const late = recorder();
    const third = lanes.attach("ag", connB, { control: true, running: true }, late.listener);
    expect(third.lane).toBe("watcher");
    expect(lanes.writerOwner("ag")).toBe(connA);
    expect(w.events).toEqual([]);
  });

  it("take moves the lane and tells the previous writer, who becomes a watcher", () => {
    const lanes = new TerminalLanes();
    const a = recorder();
    const b = recorder();
    const c = recorder();
    const first = lanes.attach("ag", connA, { control: true, running: true }, a.listener);
    const second = lanes.attach("ag", connB, { control: true, running: true }, b.listener);
    const watch = lanes.attach("ag", connB, { control: false, running: true }, c.listener);
    lanes.take(second);
    expect([first.lane, second.lane, watch.lane]).toEqual(["watcher", "writer", "watcher"]);
    expect(a.events).toEqual(["watcher/true/taken"]);
    expect(b.events).toEqual([]);
    expect(c.events).toEqual([]); // someone still writes: nothing changed for a watcher
    // attach with take: same transition, caused by the attach itself
    const third = lanes.attach("ag", connA, { control: true, take: true, running: true }, recorder().listener);
    expect(third.lane).toBe("writer");
    expect(b.events).toEqual(["watcher/true/taken"]);
  });

  it("the writer's detach frees the lane; nobody is promoted; watchers are told", () => {
    const lanes = new TerminalLanes();
    const b = recorder();
    const writer = lanes.attach("ag", connA, { control: true, running: true }, recorder().listener);
    const other = lanes.attach("ag", connB, { control: true, running: true }, b.listener);
    lanes.detach(writer);
    lanes.detach(writer); // idempotent
    expect(lanes.hasWriter("ag")).toBe(false);
    expect(other.lane).toBe("watcher");
    expect(b.events).toEqual(["watcher/false/writer-left"]);
    lanes.take(other);
    expect(lanes.writerOwner("ag")).toBe(connB);
    expect(() => lanes.take(writer)).toThrow(expect.objectContaining({ code: "NOT_ATTACHED" }));
    lanes.detach(other);
    expect(lanes.count("ag")).toBe(0);
  });

  it("read-only attachments never write; an ended agent has no writer", () => {
    const lanes = new TerminalLanes();
    const ro = lanes.attach("ag", connA, { control: false, running: true }, recorder().listener);
    expect(ro.lane).toBe("watcher");
    expect(() => lanes.take(ro)).toThrow(expect.objectContaining({ code: "READ_ONLY" }));
    const w = recorder();
    const writer = lanes.attach("ag", connB, { control: true, running: true }, w.listener);
    lanes.resized("ag", 100, 30);
    lanes.ended("ag");
    lanes.ended("ag"); // once
    expect(w.events).toEqual(["resize 100x30", "watcher/false/ended"]);
    expect(lanes.isWriter(writer)).toBe(false);
    expect(() => lanes.take(writer)).toThrow(expect.objectContaining({ code: "NOT_RUNNING" }));
    const late = lanes.attach("ag", connA, { control: true, running: false }, recorder().listener);
    expect(late.lane).toBe("watcher");
  });

  it("lanes are per agent", () => {
    const lanes = new TerminalLanes();
    const x = lanes.attach("x", connA, { control: true, running: true }, recorder().listener);
    const y = lanes.attach("y", connB, { control: true, running: true }, recorder().listener);
    expect([x.lane, y.lane]).toEqual(["writer", "writer"]);
  });
});

describe("InputLimiter", () => {
  it("refuses oversized messages and floods with codes that name the limit", () => {
    let now = 0;
    const limiter = new InputLimiter(10, 20, () => now);
    expect(() => limiter.admit(TERMINAL_INPUT_MAX_BYTES + 1)).toThrow(
      expect.objectContaining({ code: "INPUT_TOO_LARGE" }),
    );
    for (let i = 0; i < 19; i++) limiter.admit(1);
    expect(() => limiter.admit(1)).toThrow(/10 messages per second/);
    now += 1000; // refills 10
    for (let i = 0; i < 10; i++) limiter.admit(1);
    expect(() => limiter.admit(1)).toThrow(expect.objectContaining({ code: "INPUT_RATE_LIMITED" }));
  });
});
