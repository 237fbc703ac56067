// browser.js - the live page in headless Chromium (Debian's, driven by
// playwright-core): it loads from bourse-ws, builds its book, and when orders
// go through the engine (bourse send) its depth, trades and chart follow.
//   node browser.js URL CLI INSTANCE SCREENSHOT.png
// Prints "ok   name" / "FAIL name: why" lines; exits non-zero on a failure.
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync } = require("child_process");

const [url, cli, instance, shot] = process.argv.slice(2);
let failures = 0;
const ok = (n) => console.log("ok   " + n);
const fail = (n, why) => { console.log("FAIL " + n + ": " + why); failures++; };
const send = (...args) => execFileSync(cli, ["-i", instance, "send", ...args], { stdio: ["ignore", "pipe", "pipe"] });
// The deadline of every wait for an event: generous, since a sanitizer build
// on a loaded machine is slow; a wait ends at its event, not at its deadline.
const T = 60000;

// The engine's book now: levels a side, from query-book.
function engineLevels() {
  const want = { bids: 0, asks: 0 };
  for (const line of send("query-book", "instrument=1", "depth=1000").toString().split("\n")) {
    const m = line.match(/"side":"(buy|sell)"/);
    if (m && line.includes('"type":"level"')) want[m[1] === "buy" ? "bids" : "asks"]++;
  }
  return want;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url + "/?symbol=BTC-USD");
    await page.waitForFunction(() => window.bourse && window.bourse.ready, null, { timeout: T });
    const before = await page.evaluate(() => ({ bids: window.bourse.book.bids.size, asks: window.bourse.book.asks.size,
                                                trades: window.bourse.tradesSeen }));
    ok("page_loads_and_builds_its_book_from_the_snapshot");

    // A ladder of resting orders on both sides, then takers that trade.
    for (let i = 0; i < 8; i++) {
      send("new-order", "account=1", "instrument=1", "side=sell", `price=${6010000 + i * 1000}`, `qty=${1000000 * (i + 1)}`);
      send("new-order", "account=1", "instrument=1", "side=buy", `price=${5980000 - i * 1000}`, `qty=${1000000 * (i + 2)}`);
    }
    for (let i = 0; i < 6; i++) {
      send("new-order", "account=2", "instrument=1", "side=buy", `price=${6012000}`, "qty=1000000", "tif=ioc");
      send("new-order", "account=2", "instrument=1", "side=sell", `price=${5979000}`, "qty=1000000", "tif=ioc");
    }
    await page.waitForFunction((n) => window.bourse.tradesSeen >= n + 12, before.trades, { timeout: T })
      .then(() => ok("page_receives_the_trades"), (e) => fail("page_receives_the_trades", e.message));
    // Every command above is done: the page has caught up once its book has
    // the engine's levels (a taker's book update may follow its trades), and
    // has drawn them once its tables have the rows (drawn at an animation frame).
    const want = engineLevels();
    await page.waitForFunction((w) => {
      const b = window.bourse;
      return b.book.bids.size === w.bids && b.book.asks.size === w.asks &&
        document.querySelectorAll("#asks tbody tr").length === Math.min(16, w.asks) &&
        document.querySelectorAll("#bids tbody tr").length === Math.min(16, w.bids);
    }, want, { timeout: T }).catch(() => {});
    const after = await page.evaluate(() => ({
      bids: window.bourse.book.bids.size, asks: window.bourse.book.asks.size, gaps: window.bourse.gaps,
      askRows: document.querySelectorAll("#asks tbody tr").length, bidRows: document.querySelectorAll("#bids tbody tr").length,
      tradeRows: document.querySelectorAll("#trades tbody tr").length, last: document.getElementById("last").textContent,
      candles: window.bourse.candles.length,
    }));
    // 8 new levels a side, of which the takers consumed at most 6
    if (after.bids >= before.bids + 2 && after.asks >= before.asks + 2 && after.askRows === Math.min(16, after.asks) &&
        after.bidRows === Math.min(16, after.bids))
      ok("page_depth_shows_the_new_levels");
    else fail("page_depth_shows_the_new_levels", JSON.stringify({ before, after }));
    if (after.tradeRows >= 12 && /^\d+\.\d\d$/.test(after.last)) ok("page_trades_list_and_last_price_update");
    else fail("page_trades_list_and_last_price_update", JSON.stringify(after));
    if (after.candles >= 1) ok("page_chart_has_candles"); else fail("page_chart_has_candles", JSON.stringify(after));
    if (after.gaps === 0) ok("page_saw_no_sequence_gap"); else fail("page_saw_no_sequence_gap", after.gaps + " gaps");
    // The page's book equals the engine's book at the same point.
    if (want.bids === after.bids && want.asks === after.asks) ok("page_book_has_the_engines_levels");
    else fail("page_book_has_the_engines_levels", JSON.stringify({ want, after }));
    if (errors.length === 0) ok("page_has_no_script_errors"); else fail("page_has_no_script_errors", errors.join("; "));
    await page.screenshot({ path: shot });
    ok("screenshot_saved " + shot);
  } catch (e) {
    fail("browser", e.stack || String(e));
  } finally {
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
})();
