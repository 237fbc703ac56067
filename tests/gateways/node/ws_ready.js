// ws_ready.js - waits until a bourse-ws gateway lists every symbol given with
// its book built ({"op":"instruments"}, asked every 100 ms). /healthz is no
// such signal: it stays ready while the gateway has yet to hear of an
// instrument just added.
//   node ws_ready.js PORT SYMBOL... [--timeout-ms N]
// Exits 0 once they are all there and ready, 1 at the deadline (saying what
// it last saw).
"use strict";
const WebSocket = require("ws");

const args = process.argv.slice(2);
let timeoutMs = 60000;
const t = args.indexOf("--timeout-ms");
if (t >= 0) { timeoutMs = Number(args[t + 1]); args.splice(t, 2); }
const [port, ...symbols] = args;
const end = Date.now() + timeoutMs;
let last = "no answer";

function attempt() {
  if (Date.now() > end) {
    console.error(`ws_ready: not all of ${symbols.join(", ")} ready after ${timeoutMs} ms; last: ${last}`);
    process.exit(1);
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  let timer = null;
  const retry = () => { clearInterval(timer); try { ws.terminate(); } catch (e) {} setTimeout(attempt, 100); };
  ws.on("error", (e) => { last = String(e.message || e); });
  ws.on("close", retry);
  ws.on("open", () => {
    const ask = () => ws.send(JSON.stringify({ op: "instruments" }));
    ask();
    timer = setInterval(() => { if (Date.now() > end) ws.close(); else ask(); }, 100);
  });
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString());
    if (m.type !== "instruments") return;
    last = JSON.stringify(m.instruments.map((i) => [i.symbol, i.ready]));
    if (symbols.every((s) => m.instruments.some((i) => i.symbol === s && i.ready))) process.exit(0);
  });
}
attempt();
