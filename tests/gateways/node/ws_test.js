// ws_test.js - bourse-ws against a real engine with real WebSocket clients
// (the `ws` package) and raw sockets for what a well-behaved client cannot
// send. Driven by tests/gateways/test_ws.sh, which has set up the market.
//   node ws_test.js ENV.json
// ENV: {port, port_conflated, cli, flow, instance, rest_url, keys: {acct1: {key, secret}, acct2: ...}}
// Prints "ok   name" / "FAIL name: why"; exits non-zero on a failure.
"use strict";
const WebSocket = require("ws");
const net = require("net");
const crypto = require("crypto");
const http = require("http");
const { execFile, execFileSync } = require("child_process");

const env = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
let failures = 0;
const ok = (n) => console.log("ok   " + n);
const fail = (n, why) => { console.log("FAIL " + n + ": " + why); failures++; };
const check = (n, cond, why) => (cond ? ok(n) : fail(n, typeof why === "function" ? why() : why));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The deadline of every wait for an event: generous, since a sanitizer build
// on a loaded machine is slow; a wait ends at its event, not at its deadline.
const T = 30000;
const url = (port) => `ws://127.0.0.1:${port}/ws`;
const cli = (...args) => execFileSync(env.cli, ["-i", env.instance, "send", ...args]).toString();

// A client that records everything it gets, by channel.
class Client {
  constructor(port, opts = {}) {
    this.ws = new WebSocket(url(port), opts);
    this.msgs = [];
    this.byType = {};
    this.closed = null;
    this.waiters = [];
    this.book = { bids: new Map(), asks: new Map() };
    this.seq = {};
    this.gaps = [];
    this.trades = 0;
    this.lastCmdSeq = 0;
    this.ws.on("message", (d, binary) => this.onMessage(JSON.parse(d.toString())));
    this.ws.on("close", (code, reason) => { this.closed = { code, reason: reason.toString() }; this.poke(); });
    this.ws.on("error", () => {});
    this.opened = new Promise((res, rej) => { this.ws.once("open", res); this.ws.once("error", rej); });
  }
  send(o) { this.ws.send(typeof o === "string" ? o : JSON.stringify(o)); }
  onMessage(m) {
    this.msgs.push(m);
    (this.byType[m.type] = this.byType[m.type] || []).push(m);
    if (m.channel && m.seq !== undefined) {
      const key = m.channel + ":" + (m.symbol || "");
      const prev = this.seq[key];
      if (m.type !== "snapshot" && prev !== undefined && m.seq !== prev + 1) this.gaps.push([key, prev, m.seq]);
      this.seq[key] = m.seq;
      if (m.cmd_seq > this.lastCmdSeq) this.lastCmdSeq = m.cmd_seq;
    }
    if (m.channel === "book" && (m.type === "snapshot" || m.type === "update")) {
      if (m.type === "snapshot") { this.book.bids.clear(); this.book.asks.clear(); }
      for (const [side, list] of [["bids", m.bids], ["asks", m.asks]])
        for (const [p, q, o] of list) Number(q) === 0 ? this.book[side].delete(p) : this.book[side].set(p, [q, o]);
    }
    if (m.type === "trade") this.trades++;
    this.poke();
  }
  poke() { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  // Resolves when pred() holds (checked at each message), or rejects after ms.
  until(pred, ms = T, what = "condition") {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error("timed out waiting for " + what)), ms);
      const test = () => { if (pred()) { clearTimeout(t); res(); } else this.waiters.push(test); };
      test();
    });
  }
  find(pred) { return this.msgs.find(pred); }
  close() { try { this.ws.terminate(); } catch (e) {} }
}

// The engine's book at its current sequence, as decimal strings.
function engineBook() {
  const out = { bids: new Map(), asks: new Map(), seq: 0 };
  for (const line of cli("query-book", "instrument=1", "depth=1000").split("\n")) {
    if (!line.includes('"type":"level"')) continue;
    const e = JSON.parse(line);
    out.seq = e.cmd_seq;
    out[e.side === "buy" ? "bids" : "asks"].set(dec(e.price, 2), [dec(e.qty, 8), e.orders]);
  }
  return out;
}
function dec(v, scale) {
  const s = BigInt(v).toString().padStart(scale + 1, "0");
  return scale ? s.slice(0, -scale) + "." + s.slice(-scale) : s;
}
function sameBook(a, b) {
  for (const side of ["bids", "asks"]) {
    if (a[side].size !== b[side].size) return `${side}: ${a[side].size} levels vs ${b[side].size}`;
    for (const [p, [q, o]] of a[side]) {
      const x = b[side].get(p);
      if (!x || x[0] !== q || Number(x[1]) !== Number(o)) return `${side} ${p}: ${q}/${o} vs ${x}`;
    }
  }
  return null;
}

function flow(count, rate, seed) {
  return new Promise((res, rej) => execFile(env.flow, [env.instance, "1", String(count), String(rate), String(seed)],
    (err, out) => err ? rej(err) : res(Object.fromEntries(out.trim().split(" ").reduce((a, v, i, l) => (i % 2 ? a : [...a, [v, Number(l[i + 1])]]), [])))));
}

function sign(secretHex, ts, path) {
  return crypto.createHmac("sha256", Buffer.from(secretHex, "hex")).update(ts + "GET" + path).digest("hex");
}

function restBook() {
  return new Promise((res, rej) => {
    const path = "/v1/book/BTC-USD?depth=1000", ts = String(Date.now()), k = env.keys.acct1;
    http.get(env.rest_url + path, { headers: { "X-Bourse-Key": k.key, "X-Bourse-Timestamp": ts,
                                                "X-Bourse-Signature": sign(k.secret, ts, path) } }, (r) => {
      let body = "";
      r.on("data", (d) => (body += d));
      r.on("end", () => {
        if (r.statusCode !== 200) return rej(new Error(r.statusCode + " " + body));
        const j = JSON.parse(body), out = { bids: new Map(), asks: new Map() };
        for (const side of ["bids", "asks"]) for (const l of j[side]) out[side].set(l.price, [l.qty, l.orders]);
        res(out);
      });
    }).on("error", rej);
  });
}

// A raw WebSocket connection: the handshake by hand, then frames as bytes.
function rawConnect(port, extraHeaders = "") {
  return new Promise((res, rej) => {
    const s = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0), upgraded = false;
    const st = { sock: s, data: Buffer.alloc(0), ended: false };
    s.on("data", (d) => {
      if (upgraded) { st.data = Buffer.concat([st.data, d]); return; }
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf("\r\n\r\n");
      if (i < 0) return;
      upgraded = true;
      st.head = buf.slice(0, i).toString();
      st.data = buf.slice(i + 4);
      res(st);
    });
    s.on("end", () => { st.ended = true; });
    s.on("close", () => { st.ended = true; });
    s.on("error", rej);
    s.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n");
  });
}
function frame(opcode, payload, { mask = true, fin = true } = {}) {
  const p = Buffer.from(payload), n = p.length;
  const h = [((fin ? 0x80 : 0) | opcode)];
  if (n < 126) h.push((mask ? 0x80 : 0) | n);
  else if (n < 65536) h.push((mask ? 0x80 : 0) | 126, n >> 8, n & 255);
  else { h.push((mask ? 0x80 : 0) | 127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255); }
  if (!mask) return Buffer.concat([Buffer.from(h), p]);
  const m = crypto.randomBytes(4), q = Buffer.from(p);
  for (let i = 0; i < n; i++) q[i] ^= m[i & 3];
  return Buffer.concat([Buffer.from(h), m, q]);
}
// The server's frames in st.data: [{op, payload}] (server frames are unmasked).
function frames(st) {
  const out = [];
  let b = st.data;
  while (b.length >= 2) {
    let n = b[1] & 127, h = 2;
    if (n === 126) { if (b.length < 4) break; n = b.readUInt16BE(2); h = 4; }
    else if (n === 127) { if (b.length < 10) break; n = Number(b.readBigUInt64BE(2)); h = 10; }
    if (b.length < h + n) break;
    out.push({ op: b[0] & 15, payload: b.slice(h, h + n) });
    b = b.slice(h + n);
  }
  return out;
}
async function rawCloseCode(st, ms = T) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const c = frames(st).find((f) => f.op === 8);
    if (c) return c.payload.length >= 2 ? c.payload.readUInt16BE(0) : 1005;
    if (st.ended) return "ended without a close frame";
    await sleep(20);
  }
  return "no close frame";
}

async function main() {
  // --- public channels under a steady flow, a fast client and a slow one
  const fast = new Client(env.port), slow = new Client(env.port), conf = new Client(env.port_conflated);
  await Promise.all([fast.opened, slow.opened, conf.opened]);
  for (const c of [fast, slow, conf])
    for (const ch of ["book", "trades", "ticker", "candles.1s"]) c.send({ op: "subscribe", channel: ch, symbol: "BTC-USD", id: ch });
  await fast.until(() => fast.find((m) => m.type === "snapshot" && m.channel === "book"), T, "book snapshot");
  await slow.until(() => slow.find((m) => m.type === "snapshot" && m.channel === "book"), T, "slow snapshot");
  await conf.until(() => conf.find((m) => m.type === "snapshot" && m.channel === "book"), T, "conflated snapshot");
  const acks = fast.byType.subscribed || [];
  check("subscribe_is_acknowledged_with_its_id", acks.length === 4 && acks.some((a) => a.id === "book" && a.channel === "book" && a.symbol === "BTC-USD"),
        () => JSON.stringify(acks));
  const snap = fast.find((m) => m.type === "snapshot" && m.channel === "book");
  // The snapshot is the gateway's replica, which may be a few events behind
  // the engine: the deltas after it catch up.
  const atStart = engineBook();
  await fast.until(() => sameBook(fast.book, atStart) === null, T, "book at start").catch(() => {});
  check("book_snapshot_matches_the_engine_at_start", sameBook(fast.book, atStart) === null, () => sameBook(fast.book, atStart));
  check("book_snapshot_carries_seq_and_cmd_seq", Number.isInteger(snap.seq) && snap.cmd_seq > 0 && /^\d+$/.test(snap.ts), JSON.stringify(snap).slice(0, 200));

  slow.ws._socket.pause(); // stops reading: its queue fills
  const f = await flow(env.flow_count, env.flow_rate, 7);
  check("flow_ran", f.commands === env.flow_count && f.trades > 0, JSON.stringify(f));
  // a last command that surely changes the book: its cmd_seq marks the end of the flow
  const marker = JSON.parse(cli("new-order", "account=3", "instrument=1", "side=buy", "price=5950000", "qty=1000000").split("\n")[0]).cmd_seq;
  try {
    await fast.until(() => fast.lastCmdSeq >= marker && fast.trades >= f.trades, T, "fast client catching up");
    ok("fast_client_keeps_up_with_the_flow");
  } catch (e) { fail("fast_client_keeps_up_with_the_flow", `${e.message}: cmd_seq ${fast.lastCmdSeq}/${marker}, trades ${fast.trades}/${f.trades}`); }
  const eng = engineBook();
  // The ticker goes out after the book update of the same command.
  const bestBid = [...eng.bids.keys()].sort((a, b) => Number(b) - Number(a))[0];
  const lastTick = () => (fast.byType.ticker || []).slice(-1)[0];
  await fast.until(() => lastTick() && lastTick().bid === bestBid, T, "ticker at the top").catch(() => {});
  const diff = sameBook(fast.book, eng);
  check("snapshot_plus_deltas_equal_the_engines_query_book", diff === null, diff);
  check("book_has_levels_on_both_sides", eng.bids.size > 3 && eng.asks.size > 3, `${eng.bids.size}/${eng.asks.size}`);
  if (env.rest_url) {
    try {
      const rb = await restBook();
      const d2 = sameBook(fast.book, rb);
      check("ws_book_equals_the_rest_depth_endpoint", d2 === null, d2);
    } catch (e) { fail("ws_book_equals_the_rest_depth_endpoint", e.message); }
  }
  check("sequence_numbers_are_contiguous_per_channel", fast.gaps.length === 0, () => JSON.stringify(fast.gaps.slice(0, 5)));
  const updates = (fast.byType.update || []).length;
  check("one_book_update_per_command_that_changed_it", updates > f.commands / 2 && updates <= f.commands + 1, `${updates} updates for ${f.commands} commands`);
  check("fast_client_received_every_trade", fast.trades === f.trades, `${fast.trades} of ${f.trades}`);
  const seqs = (fast.byType.update || []).map((m) => m.seq);
  check("gap_is_detectable_seq_plus_one_each_message", seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1) && seqs[0] === snap.seq + 1,
        () => `first ${seqs[0]} after snapshot ${snap.seq}`);
  const tick = lastTick();
  check("ticker_shows_the_top_of_book", tick && tick.bid === bestBid, () => JSON.stringify(tick) + " best " + bestBid);
  check("candles_follow_the_trades", (fast.byType.candle || []).length > 0 && (fast.byType.candle || []).every((c) => /^\d+\.\d{2}$/.test(c.open) && c.trades >= 1),
        "no candles");
  check("prices_and_quantities_are_decimal_strings", (fast.byType.trade || []).every((t) => typeof t.price === "string" && /^\d+\.\d{2}$/.test(t.price) && /^\d+\.\d{8}$/.test(t.qty)),
        "a trade with a non-string price");

  // conflation: fewer updates, same book
  await conf.until(() => conf.lastCmdSeq >= marker && sameBook(conf.book, eng) === null, T, "conflated client").catch(() => {});
  const cdiff = sameBook(conf.book, eng);
  const cupd = (conf.byType.update || []).length;
  check("conflated_book_converges_to_the_engines_book", cdiff === null, cdiff);
  check("conflation_sends_fewer_updates", cupd > 0 && cupd < updates, `${cupd} conflated vs ${updates}`);
  check("conflated_levels_are_unique_per_update", (conf.byType.update || []).every((u) => new Set(u.bids.map((l) => l[0])).size === u.bids.length),
        "a price twice in one update");

  // the slow client: closed with 4001 once it reads again; the fast one was never disturbed
  slow.ws._socket.resume();
  try {
    await slow.until(() => slow.closed, T, "slow client close");
    check("slow_client_is_closed_with_4001", slow.closed.code === 4001, JSON.stringify(slow.closed));
    check("close_reason_says_why", /send queue overflow/.test(slow.closed.reason), slow.closed.reason);
  } catch (e) { fail("slow_client_is_closed_with_4001", e.message + ` (got ${slow.msgs.length} messages)`); }
  check("slow_client_got_less_than_the_fast_one", slow.msgs.length < fast.msgs.length, `${slow.msgs.length} vs ${fast.msgs.length}`);
  check("fast_client_still_open_after_the_slow_one_went", fast.closed === null, JSON.stringify(fast.closed));

  // --- bad input: error frames on the same connection, which stays up
  const bad = new Client(env.port);
  await bad.opened;
  const expectErr = async (name, msg, code) => {
    const n = (bad.byType.error || []).length;
    bad.send(msg);
    try {
      await bad.until(() => (bad.byType.error || []).length > n, T, name);
      const e = bad.byType.error[n];
      check(name, e.code === code && typeof e.message === "string" && e.message.length > 5, JSON.stringify(e));
    } catch (e) { fail(name, e.message); }
  };
  await expectErr("malformed_json_gets_bad_json", "{not json", "bad-json");
  await expectErr("non_object_gets_bad_json", "[1,2]", "bad-json");
  await expectErr("missing_op_is_bad_request", { channel: "book" }, "bad-request");
  await expectErr("unknown_op_is_named", { op: "dance" }, "unknown-op");
  await expectErr("unknown_channel_is_named", { op: "subscribe", channel: "gossip", symbol: "BTC-USD" }, "unknown-channel");
  await expectErr("unknown_symbol_is_named", { op: "subscribe", channel: "book", symbol: "DOGE-EUR" }, "unknown-symbol");
  await expectErr("unknown_member_is_refused", { op: "subscribe", channel: "book", symbol: "BTC-USD", colour: "red" }, "bad-request");
  await expectErr("private_channel_needs_auth", { op: "subscribe", channel: "orders" }, "auth-required");
  await expectErr("unsubscribe_of_nothing_is_refused", { op: "unsubscribe", channel: "trades", symbol: "BTC-USD" }, "not-subscribed");
  bad.send({ op: "subscribe", channel: "book", symbol: "BTC-USD" });
  await expectErr("double_subscribe_is_refused", { op: "subscribe", channel: "book", symbol: "BTC-USD", id: "again" }, "already-subscribed");
  const errWithId = (bad.byType.error || []).find((e) => e.id === "again");
  check("error_frame_echoes_the_request_id", !!errWithId, "no id");
  bad.send({ op: "ping", id: 42 });
  await bad.until(() => bad.byType.pong, T, "pong").then(() => check("ping_gets_pong_with_its_id", bad.byType.pong[0].id === 42, JSON.stringify(bad.byType.pong[0])),
                                                          (e) => fail("ping_gets_pong_with_its_id", e.message));
  check("connection_survives_bad_messages", bad.closed === null, JSON.stringify(bad.closed));

  // too many subscriptions (max_subscriptions = 6 in the test config)
  const many = new Client(env.port);
  await many.opened;
  for (const ch of ["book", "ticker", "trades", "candles.1s", "candles.1m"]) many.send({ op: "subscribe", channel: ch, symbol: "BTC-USD" });
  for (const ch of ["book", "ticker"]) many.send({ op: "subscribe", channel: ch, symbol: "ETH-USD" });
  await many.until(() => (many.byType.error || []).length >= 1, T, "too many").then(
    () => check("subscriptions_are_capped_per_client", many.byType.error[0].code === "too-many-subscriptions", JSON.stringify(many.byType.error[0])),
    (e) => fail("subscriptions_are_capped_per_client", e.message));
  many.close();

  // a flood of subscribe messages: rate-limited error frames, then a close
  const flood = new Client(env.port);
  await flood.opened;
  for (let i = 0; i < 400; i++) flood.send({ op: "subscribe", channel: "book", symbol: "BTC-USD", id: i });
  try {
    await flood.until(() => flood.closed, T, "flood close");
    check("flood_is_rate_limited_then_closed_4003", flood.closed.code === 4003 && (flood.byType.error || []).some((e) => e.code === "rate-limited"),
          JSON.stringify(flood.closed) + " " + JSON.stringify((flood.byType.error || []).slice(-1)));
  } catch (e) { fail("flood_is_rate_limited_then_closed_4003", e.message + " " + JSON.stringify((flood.byType.error || []).slice(-1))); }

  // protocol violations: close codes
  const oversize = new Client(env.port);
  await oversize.opened;
  oversize.send(JSON.stringify({ op: "ping", id: "x".repeat(20000) }));
  await oversize.until(() => oversize.closed, T, "oversize close").then(
    () => check("oversize_message_closes_with_1009", oversize.closed.code === 1009, JSON.stringify(oversize.closed)),
    (e) => fail("oversize_message_closes_with_1009", e.message));
  const bin = new Client(env.port);
  await bin.opened;
  bin.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await bin.until(() => bin.closed, T, "binary close").then(
    () => check("binary_frame_closes_with_1003", bin.closed.code === 1003, JSON.stringify(bin.closed)),
    (e) => fail("binary_frame_closes_with_1003", e.message));
  let st = await rawConnect(env.port);
  st.sock.write(frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  check("invalid_utf8_closes_with_1007", (await rawCloseCode(st)) === 1007, "code " + (await rawCloseCode(st, 10)));
  st.sock.destroy();
  st = await rawConnect(env.port);
  st.sock.write(frame(1, '{"op":"ping"}', { mask: false }));
  check("unmasked_frame_closes_with_1002", (await rawCloseCode(st)) === 1002, "code " + (await rawCloseCode(st, 10)));
  st.sock.destroy();
  st = await rawConnect(env.port);
  st.sock.write(frame(0, "orphan continuation"));
  check("orphan_continuation_closes_with_1002", (await rawCloseCode(st)) === 1002, "code " + (await rawCloseCode(st, 10)));
  st.sock.destroy();
  st = await rawConnect(env.port);
  st.sock.write(Buffer.concat([frame(1, '{"op":"pi', { fin: false }), frame(9, "hi"), frame(0, 'ng","id":"frag"}')]));
  const answered = () => frames(st).some((x) => x.op === 10 && x.payload.toString() === "hi") &&
                         frames(st).some((x) => x.op === 1 && x.payload.toString().includes('"frag"'));
  for (const end = Date.now() + T; !answered() && !st.ended && Date.now() < end;) await sleep(20);
  const fr = frames(st);
  check("fragmented_message_with_a_ping_inside_is_answered", fr.some((x) => x.op === 10 && x.payload.toString() === "hi") &&
        fr.some((x) => x.op === 1 && x.payload.toString().includes('"frag"')), JSON.stringify(fr.map((x) => [x.op, x.payload.toString()])));
  st.sock.write(frame(8, Buffer.from([0x03, 0xe8])));
  check("client_close_is_echoed", (await rawCloseCode(st)) === 1000, "code " + (await rawCloseCode(st, 10)));
  st.sock.destroy();

  // idle: a raw client that never answers pings is closed with 4002
  // t0 before the handshake is sent: the gateway's idle time starts no
  // earlier, however late its answer comes.
  const t0 = Date.now();
  st = await rawConnect(env.port);
  const idleCode = await rawCloseCode(st, env.idle_ms + T);
  check("idle_client_closed_with_4002_after_idle_timeout", idleCode === 4002 && Date.now() - t0 >= env.idle_ms - 100,
        `code ${idleCode} after ${Date.now() - t0} ms`);
  check("server_pings_before_idle_close", frames(st).some((x) => x.op === 9), "no ping frame");
  st.sock.destroy();
  // a ws client answers pings by itself, so it outlives the idle timeout
  check("pinged_client_outlives_idle_timeout", fast.closed === null && bad.closed === null, JSON.stringify([fast.closed, bad.closed]));

  // --- private channels (the flow's orders cancelled first, so that the orders below meet each other)
  cli("mass-cancel", "account=1", "instrument=1");
  cli("mass-cancel", "account=2", "instrument=1");
  const priv = new Client(env.port), other = new Client(env.port);
  await Promise.all([priv.opened, other.opened]);
  const ts = String(Date.now());
  priv.send({ op: "auth", id: "a1", key: env.keys.acct1.key, timestamp: ts, signature: "0".repeat(64) });
  await priv.until(() => priv.byType.error, T, "bad sig").then(
    () => check("bad_signature_is_refused", priv.byType.error[0].code === "bad-signature" && priv.byType.error[0].id === "a1", JSON.stringify(priv.byType.error[0])),
    (e) => fail("bad_signature_is_refused", e.message));
  priv.send({ op: "subscribe", channel: "orders", id: "o0" });
  await priv.until(() => priv.byType.error.length >= 2, T).then(
    () => check("refused_auth_leaves_private_channels_closed", priv.byType.error[1].code === "auth-required", JSON.stringify(priv.byType.error[1])),
    (e) => fail("refused_auth_leaves_private_channels_closed", e.message));
  priv.send({ op: "auth", id: "a2", key: env.keys.acct1.key, timestamp: String(Date.now() - 3600e3),
              signature: sign(env.keys.acct1.secret, String(Date.now() - 3600e3), "/ws") });
  await priv.until(() => priv.byType.error.length >= 3, T).then(
    () => check("stale_timestamp_is_refused", priv.byType.error[2].code === "stale", JSON.stringify(priv.byType.error[2])),
    (e) => fail("stale_timestamp_is_refused", e.message));
  const ts2 = String(Date.now());
  priv.send({ op: "auth", id: "a3", key: env.keys.acct1.key, timestamp: ts2, signature: sign(env.keys.acct1.secret, ts2, "/ws") });
  await priv.until(() => priv.byType.authenticated, T, "auth").then(
    () => check("good_signature_authenticates_as_the_keys_account", priv.byType.authenticated[0].account === "1", JSON.stringify(priv.byType.authenticated[0])),
    (e) => fail("good_signature_authenticates_as_the_keys_account", e.message));
  other.send({ op: "auth", id: "r", key: env.keys.acct1.key, timestamp: ts2, signature: sign(env.keys.acct1.secret, ts2, "/ws") });
  await other.until(() => other.byType.error, T).then(
    () => check("replayed_signature_is_refused", other.byType.error[0].code === "replay", JSON.stringify(other.byType.error[0])),
    (e) => fail("replayed_signature_is_refused", e.message));
  // header authentication at the upgrade, as bourse-rest's headers
  const ts3 = String(Date.now());
  const hdr = new Client(env.port, { headers: { "X-Bourse-Key": env.keys.acct2.key, "X-Bourse-Timestamp": ts3,
                                                "X-Bourse-Signature": sign(env.keys.acct2.secret, ts3, "/ws") } });
  await hdr.opened;
  await hdr.until(() => hdr.byType.authenticated || hdr.byType.error, T).then(
    () => check("upgrade_headers_authenticate", hdr.byType.authenticated && hdr.byType.authenticated[0].account === "2",
                JSON.stringify(hdr.msgs[0])), (e) => fail("upgrade_headers_authenticate", e.message));
  for (const ch of ["orders", "fills", "balances"]) { priv.send({ op: "subscribe", channel: ch, id: ch }); hdr.send({ op: "subscribe", channel: ch }); }
  await priv.until(() => (priv.byType.subscribed || []).length === 3, T, "private acks").catch((e) => fail("private_subscribe", e.message));
  await hdr.until(() => (hdr.byType.subscribed || []).length === 3, T, "private acks 2").catch((e) => fail("private_subscribe_2", e.message));
  const o1 = cli("new-order", "account=1", "instrument=1", "side=sell", "price=6005000", "qty=2000000", "client_order_id=501");
  cli("new-order", "account=2", "instrument=1", "side=sell", "price=6005000", "qty=1000000", "client_order_id=502");
  cli("new-order", "account=2", "instrument=1", "side=buy", "price=6005000", "qty=3000000", "tif=ioc");
  const id1 = JSON.parse(o1.split("\n").find((l) => l.includes('"accepted"'))).order_id;
  // A barrier: a later order command of the account, refused, which shows on
  // its orders channel; once a client has it, it has everything before it.
  const barrier = (c, account) => {
    try { cli("cancel", "account=" + account, "order_id=999999900"); } catch (e) { /* exit 3: refused, as meant */ }
    return c.until(() => (c.byType.order || []).some((o) => o.event === "rejected" && o.order_id === "999999900"), T,
                   "account " + account + "'s barrier");
  };
  try {
    await priv.until(() => (priv.byType.fill || []).length >= 1 && (priv.byType.balance || []).length >= 1 &&
                           (priv.byType.order || []).length >= 1, T, "private events");
    await barrier(priv, 1);
    const orders = priv.byType.order || [];
    check("orders_channel_shows_the_accounts_order", orders.some((o) => o.event === "accepted" && o.order_id === String(id1) && o.client_order_id === "501" && o.price === "60050.00"),
          JSON.stringify(orders));
    check("orders_channel_shows_only_the_accounts_orders", orders.length > 0 && orders.every((o) => o.account === "1" && o.client_order_id !== "502"),
          JSON.stringify(orders));
    const fills = priv.byType.fill || [];
    check("fills_show_own_side_as_maker", fills.length === 1 && fills[0].order_id === String(id1) && fills[0].liquidity === "maker" &&
          fills[0].side === "sell" && fills[0].qty === "0.02000000", JSON.stringify(fills));
    check("balances_are_the_accounts_own", (priv.byType.balance || []).every((b) => b.account === "1" && /^\d+\.\d+$/.test(b.available)),
          JSON.stringify(priv.byType.balance));
    await hdr.until(() => (hdr.byType.fill || []).length >= 1, T, "taker fill");
    await barrier(hdr, 2);
    check("other_account_sees_its_own_fills_only", (hdr.byType.fill || []).every((x) => x.account === "2") &&
          (hdr.byType.order || []).every((o) => o.account === "2" && o.client_order_id !== "501"), JSON.stringify(hdr.byType.order));
    const pseq = (priv.byType.order || []).map((m) => m.seq);
    check("private_channels_number_their_messages", pseq.every((s, i) => s === i + 1), JSON.stringify(pseq));
  } catch (e) { fail("private_channels", e.message + " " + JSON.stringify(priv.msgs.slice(-3))); }

  // --- refusals on the orders channel: an order command's, for the account, from any session (here the
  // CLI); never a refused query or admin command, though the engine's refusal names the account, nor
  // another account's. The commands go one after another, so the last refusal each client waits for
  // comes after every one it must not see.
  try {
    const status = (...args) => { try { cli(...args); return 0; } catch (e) { return e.status; } };
    const n1 = (priv.byType.order || []).length, n2 = (hdr.byType.order || []).length;
    const notOrders = [["query-account", "account=1", "limit=1001"], ["query-order", "account=1", "order_id=999999999"],
                       ["withdraw", "account=1", "asset=1", "amount=999999999999999"], ["add-account", "account=1"]];
    const st = notOrders.map((a) => status(...a));
    check("queries_and_admin_commands_naming_account_1_are_refused", st.every((s) => s === 3), JSON.stringify(st));
    const st2 = [status("cancel", "account=1", "order_id=999999901"), status("cancel", "account=2", "order_id=999999902"),
                 status("mass-cancel", "account=1", "instrument=7")];
    check("order_commands_of_accounts_1_and_2_are_refused", st2.every((s) => s === 3), JSON.stringify(st2));
    const rejected = (c, n) => (c.byType.order || []).slice(n).filter((o) => o.event === "rejected");
    await priv.until(() => rejected(priv, n1).some((o) => o.reason === "unknown-instrument"), T, "mass-cancel refusal");
    await hdr.until(() => rejected(hdr, n2).length >= 1, T, "account 2's refusal");
    const got1 = rejected(priv, n1), got2 = rejected(hdr, n2);
    const said = (list) => JSON.stringify(list.map((o) => [o.account, o.event, o.command, o.order_id, o.reason]));
    check("orders_channel_shows_the_accounts_refused_order_commands_from_any_session",
          got1.some((o) => o.account === "1" && o.command === "cancel" && o.order_id === "999999901" && o.reason === "unknown-order") &&
          got1.some((o) => o.account === "1" && o.command === "mass-cancel" && o.reason === "unknown-instrument"), () => said(got1));
    check("orders_channel_never_shows_refused_queries_admin_commands_or_other_accounts",
          said(got1) === JSON.stringify([["1", "rejected", "cancel", "999999901", "unknown-order"],
                                         ["1", "rejected", "mass-cancel", null, "unknown-instrument"]]) &&
          said(got2) === JSON.stringify([["2", "rejected", "cancel", "999999902", "unknown-order"]]),
          () => said(got1) + " " + said(got2));
  } catch (e) { fail("orders_channel_refusals", e.message + " " + JSON.stringify(priv.msgs.slice(-3))); }

  // --- order entry over the socket (the trader key of account 1; account 2's key is read-only)
  const reply = async (c, msg, pred, what) => {
    const n = c.msgs.length;
    c.send(msg);
    await c.until(() => c.msgs.slice(n).some(pred), T, what);
    return c.msgs.slice(n).find(pred);
  };
  const answerTo = (id) => (m) => m.id === id && (m.type === "error" || m.type === "order-ack" || m.type === "cancel-ack");
  try {
    let a = await reply(hdr, { op: "order", id: "r1", symbol: "BTC-USD", side: "buy", price: "60000.00", qty: "0.01" }, answerTo("r1"), "read-only order");
    check("order_with_a_read_only_key_is_refused", a.type === "error" && a.code === "forbidden-role", JSON.stringify(a));
    a = await reply(bad, { op: "order", id: "u1", symbol: "BTC-USD", side: "buy", price: "60000.00", qty: "0.01" }, answerTo("u1"), "unauthenticated order");
    check("order_without_auth_is_refused", a.type === "error" && a.code === "auth-required", JSON.stringify(a));
    const bads = [["e1", { price: "60050.50", qty: "0.01" }, "price-off-tick"], ["e2", { price: "60050.123", qty: "0.01" }, "price-off-tick"],
                  ["e3", { price: "60050.00", qty: "0.015" }, "qty-off-lot"], ["e4", { price: "abc", qty: "0.01" }, "bad-price"],
                  ["e5", { price: "60050.00", qty: "0" }, "qty-not-positive"], ["e6", { price: 60050, qty: "0.01" }, "bad-request"]];
    for (const [id, f, code] of bads) {
      a = await reply(priv, { op: "order", id, symbol: "BTC-USD", side: "sell", ...f }, answerTo(id), id);
      check("order_checked_before_the_engine_" + code + "_" + id, a.type === "error" && a.code === code, JSON.stringify(a));
    }
    a = await reply(priv, { op: "order", id: "big", symbol: "BTC-USD", side: "sell", price: "60100.00", qty: "1000" }, answerTo("big"), "engine reject");
    check("engine_refusal_is_an_error_frame_with_its_reason", a.type === "error" && a.code === "qty-above-max", JSON.stringify(a));
    await priv.until(() => (priv.byType.order || []).some((o) => o.event === "rejected" && o.reason === "qty-above-max"), T,
                     "refusal on the channel")
      .then(() => check("ws_order_refusal_shows_on_the_orders_channel",
                        priv.byType.order.some((o) => o.event === "rejected" && o.command === "new-order" && o.account === "1"),
                        JSON.stringify(priv.byType.order.slice(-2))),
            (e) => fail("ws_order_refusal_shows_on_the_orders_channel", e.message));
    const nOrders = (priv.byType.order || []).length;
    a = await reply(priv, { op: "order", id: "o1", symbol: "BTC-USD", side: "sell", price: "60100.00", qty: "0.03", client_order_id: "901" },
                    answerTo("o1"), "resting order");
    check("order_is_acknowledged_open_with_its_ids", a.type === "order-ack" && a.status === "open" && a.client_order_id === "901" &&
          /^\d+$/.test(a.order_id) && a.price === "60100.00" && a.qty === "0.03000000" && a.cmd_seq > 0, JSON.stringify(a));
    await priv.until(() => (priv.byType.order || []).slice(nOrders).some((o) => o.order_id === a.order_id), T, "order on the channel")
      .then(() => ok("ws_order_shows_on_the_orders_channel"), (e) => fail("ws_order_shows_on_the_orders_channel", e.message));
    a = await reply(priv, { op: "order", id: "t1", symbol: "BTC-USD", side: "buy", price: "60100.00", qty: "0.02", tif: "ioc" }, answerTo("t1"), "taker");
    check("taker_order_is_acknowledged_filled", a.type === "order-ack" && a.status === "filled" && a.filled_qty === "0.02000000" && a.fills >= 1,
          JSON.stringify(a));
    a = await reply(priv, { op: "cancel", id: "c1", client_order_id: "901" }, answerTo("c1"), "cancel");
    check("cancel_by_client_order_id_is_acknowledged", a.type === "cancel-ack" && a.cancelled_qty === "0.03000000" && a.symbol === "BTC-USD",
          JSON.stringify(a));
    a = await reply(priv, { op: "cancel", id: "c2", client_order_id: "901" }, answerTo("c2"), "cancel again");
    check("cancel_of_a_gone_order_is_refused", a.type === "error" && a.code === "unknown-order", JSON.stringify(a));
    a = await reply(priv, { op: "cancel", id: "c3" }, answerTo("c3"), "cancel of nothing");
    check("cancel_needs_an_order_id", a.type === "error" && a.code === "bad-request", JSON.stringify(a));
  } catch (e) { fail("order_entry", e.message); }

  // everyone else was never disturbed
  const late = new Client(env.port);
  await late.opened;
  late.send({ op: "subscribe", channel: "book", symbol: "BTC-USD" });
  await late.until(() => late.find((m) => m.type === "snapshot"), T, "late snapshot").then(
    () => check("gateway_still_serves_new_clients", sameBook(late.book, engineBook()) === null, () => sameBook(late.book, engineBook())),
    (e) => fail("gateway_still_serves_new_clients", e.message));
  check("fast_client_survived_everything", fast.closed === null, JSON.stringify(fast.closed));
  for (const c of [fast, conf, bad, priv, other, hdr, late]) c.close();
  process.exit(failures ? 1 : 0);
}
// node ws_test.js ENV.json watch: prints every book message as a line, until killed.
async function watch() {
  const c = new Client(env.port);
  await c.opened;
  c.ws.on("message", (d) => console.log(d.toString()));
  c.ws.on("close", (code) => { console.log(JSON.stringify({ type: "closed", code })); process.exit(0); });
  c.send({ op: "subscribe", channel: "book", symbol: "BTC-USD" });
}
(process.argv[3] === "watch" ? watch() : main()).catch((e) => { fail("ws_test", e.stack || String(e)); process.exit(1); });
