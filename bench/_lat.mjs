import { startNode, installExitHandlers, stopAll, CLI } from "./lib.js";
installExitHandlers();
const relay = startNode([CLI, "relay", "--host", "127.0.0.1", "--port", "0", "--per-ip-max-connections", "1000000", "--per-ip-rate", "1000000", "--log-level", "warn"]);
const m = await relay.waitFor(/relay endpoint for offers: (\S+)/);
const echo = startNode(["bench/loadgen.js", "echo"]);
const echoPort = Number((await echo.waitFor(/ECHO PORT (\d+)/))[1]);
const lg = startNode(["bench/loadgen.js"], { ipc: true });
let id = 0; const call = (cmd, a={}) => new Promise((res, rej) => { const my = ++id; const h = (msg) => { if (msg.id === my) { lg.proc.off("message", h); msg.ok ? res(msg.result) : rej(new Error(msg.error)); } }; lg.proc.on("message", h); lg.proc.send({ id: my, cmd, ...a }); });
await call("init", { relay: "ws://" + m[1] });
const [D, C, rate, senders] = process.argv.slice(2).map(Number);
console.log(await call("daemons", { count: D }));
console.log(await call("clients", { count: C }));
for (const path of ["echo", "relay", "echo", "relay"]) {
  const r = await call("latency", { path, rate, seconds: 2, senders, echoPort });
  console.log(path, r.sent, r.received, r.oneWayMs.median.toFixed(3), r.oneWayMs.p99.toFixed(3));
}
await call("close").catch(()=>{});
await stopAll();
