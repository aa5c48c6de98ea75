import { startNode, installExitHandlers, stopAll, CLI } from "./lib.js";
installExitHandlers();
const ping = process.argv[2];
const relay = startNode([CLI, "relay", "--host", "127.0.0.1", "--port", "0", "--per-ip-max-connections", "1000000", "--per-ip-rate", "1000000", "--log-level", "warn", "--ping-interval", ping]);
const m = await relay.waitFor(/relay endpoint for offers: (\S+)/);
const lg = startNode(["bench/loadgen.js"], { ipc: true });
let id = 0; const call = (cmd, a={}) => new Promise((res, rej) => { const my = ++id; const h = (msg) => { if (msg.id === my) { lg.proc.off("message", h); msg.ok ? res(msg.result) : rej(new Error(msg.error)); } }; lg.proc.on("message", h); lg.proc.send({ id: my, cmd, ...a }); });
await call("init", { relay: "ws://" + m[1] });
await call("daemons", { count: 1000 }); await call("clients", { count: 10000 });
const out = [];
for (let i = 0; i < 8; i++) {
  const r = await call("latency", { path: "relay", rate: 5000, seconds: 2, senders: 100 });
  out.push(`${r.oneWayMs.median.toFixed(2)}/${r.oneWayMs.p99.toFixed(1)}/${r.oneWayMs.max.toFixed(0)}`);
}
console.log("ping", ping, "p50/p99/max per 2s slice:", out.join("  "));
console.log(await call("status").then(s => JSON.stringify({d: s.daemonsReady, c: s.clientsOpen, closes: s.unexpectedCloses})));
await call("close").catch(()=>{});
await stopAll();
