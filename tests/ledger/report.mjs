// report.mjs: `graft ledger report` in a real browser. Starts kvd with kv.parse in
// canary 50% and its admin endpoint, sends it traffic, renders the ledger report with
// --url (calls served per implementation from the live process), opens the HTML in
// Debian's headless chromium through playwright-core (the copy tests/browser installs,
// found from there: that directory is another test's), checks the table, the two
// pictures and the live numbers, and takes a screenshot. Any request leaving the file,
// or any script error, fails the test.
//
//   node report.mjs GRAFT KVD SOURCE_DIR OUT_DIR
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [graft, kvd, src, outDir] = process.argv.slice(2);
if (!graft || !kvd || !src || !outDir) {
  console.error("usage: node report.mjs GRAFT KVD SOURCE_DIR OUT_DIR");
  process.exit(2);
}
const require = createRequire(join(src, "tests", "browser", "package.json"));
const { chromium } = require("playwright-core");
const failures = [];
const check = (cond, what) => { if (!cond) failures.push(what); return cond; };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// n set/get pairs on one connection, every reply read.
function traffic(port, conn, n) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let buf = "", want = 0, sent = 0;
    const send = () => {
      if (sent === n) { s.end(); return; }
      const k = `ledger-${conn}-${sent}`;
      s.write(`set ${k} 0 0 1\r\nx\r\nget ${k}\r\n`);
      want += "STORED\r\n".length + `VALUE ${k} 0 1\r\nx\r\nEND\r\n`.length;
      sent++;
    };
    s.on("connect", send);
    s.on("data", (d) => {
      buf += d;
      if (buf.length >= want) send();
    });
    s.on("end", () => (buf.includes("END") ? resolve() : reject(new Error("no replies"))));
    s.on("error", reject);
    s.setTimeout(10000, () => reject(new Error("traffic timed out")));
  });
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  const [port, aport] = [await freePort(), await freePort()];
  const child = spawn(kvd, ["-l", "127.0.0.1", "-p", String(port), "-t", "1"], {
    env: { ...process.env, GRAFT_ADMIN: `127.0.0.1:${aport}`, GRAFT_SEAMS: "kv.parse=canary:50" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const profile = mkdtempSync(join(tmpdir(), "graft-ledger-chromium-"));
  let context;
  try {
    for (let i = 0; i < 100; i++) {
      try { const r = await fetch(`http://127.0.0.1:${aport}/api/seams`); if (r.ok) break; } catch { /* not yet */ }
      await sleep(100);
    }
    await Promise.all([...Array(8).keys()].map((c) => traffic(port, c, 100)));

    const html = join(outDir, "report.html");
    const text = execFileSync(graft, ["ledger", "--root", src, "report", "--html", html,
                                      "--url", `http://127.0.0.1:${aport}`], { encoding: "utf8" });
    check(/kv\.hash: not registered \(retired: as it should be\)/.test(text), "text report: kv.hash retired, not live");
    const live = /kv\.parse: mode canary, C served ([\d,]+) .*Rust served ([\d,]+)/.exec(text);
    check(live && Number(live[1].replace(/,/g, "")) > 0 && Number(live[2].replace(/,/g, "")) > 0,
          "text report: kv.parse calls served by C and by Rust in canary");

    context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1100, height: 900 },
      timeout: 30000,
    });
    const fileUrl = pathToFileURL(html).href;
    const foreign = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url === fileUrl) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.goto(fileUrl, { waitUntil: "load" });
    check((await page.title()).includes("migration ledger"), "page title");
    for (const [name, stage] of [["kv.hash", "retired"], ["kv.parse", "candidate"], ["kv.store", "legacy"]]) {
      const row = page.locator(`tr.component[data-component="${name}"]`);
      check((await row.count()) === 1, `row for ${name}`);
      if ((await row.count()) === 1) check((await row.locator(".stage").textContent()) === stage, `${name} shows stage ${stage}`);
    }
    const hashRow = await page.locator('tr.component[data-component="kv.hash"]').textContent();
    check(/not registered \(retired\)/.test(hashRow), "kv.hash live column says retired");
    const parseRow = await page.locator('tr.component[data-component="kv.parse"]').textContent();
    check(/canary: C [\d,]+, Rust [\d,]+/.test(parseRow), "kv.parse live column shows calls per implementation");
    // The lines picture: per component and total, C serving / C deleted / Rust bars.
    check((await page.locator("#lines-chart rect.c-serving").count()) === 4, "C-serving bars for 3 components + total");
    check((await page.locator("#lines-chart rect.rust").count()) === 4, "Rust bars for 3 components + total");
    const retiredW = Number(await page.locator("#lines-chart rect.c-retired >> nth=0").getAttribute("width"));
    check(retiredW > 0, "kv.hash's deleted C is drawn");
    const box = await page.locator("#lines-chart").boundingBox();
    check(box && box.width > 500 && box.height > 100, "lines chart is laid out");
    check((await page.locator("#stage-timeline rect").count()) >= 11, "stage timeline bands");
    await page.screenshot({ path: join(outDir, "report.png"), fullPage: true });
    check(foreign.length === 0, "requests leaving the file: " + foreign.join(", "));
    check(pageErrors.length === 0, "page errors: " + pageErrors.join(" | "));
  } finally {
    if (context) await context.close().catch(() => {});
    child.kill("SIGTERM");
    rmSync(profile, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => { console.error("FAIL: ledger report browser test timed out"); process.exit(1); }, 120000);
main().then(() => {
  clearTimeout(watchdog);
  if (failures.length) {
    for (const f of failures) console.error("FAIL: " + f);
    process.exit(1);
  }
  console.log(`ledger report: browser checks passed, screenshot ${join(outDir, "report.png")}`);
}, (e) => {
  clearTimeout(watchdog);
  console.error("FAIL: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
