// dashboard.mjs: the admin dashboard in a real browser. Starts the admin test host
// (fake seams, token), opens "/" in Debian's headless chromium through playwright-core,
// enters the token, checks the seams render with their numbers and latency chart,
// changes a mode with a click, checks the API reflects it, and takes a screenshot.
// Any request to another origin, or any script error on the page, fails the test.
//
//   node dashboard.mjs TESTHOST SCREENSHOT.png
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [hostBin, screenshot] = process.argv.slice(2);
if (!hostBin || !screenshot) {
  console.error("usage: node dashboard.mjs TESTHOST SCREENSHOT.png");
  process.exit(2);
}
const TOKEN = "browser-test-token";
const failures = [];
const check = (cond, what) => { if (!cond) failures.push(what); return cond; };

function startHost() {
  return new Promise((resolve, reject) => {
    const child = spawn(hostBin, ["127.0.0.1:0", TOKEN, "--seconds", "120"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error("test host did not report its port")), 10000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^port (\d+)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.on("exit", (code) => reject(new Error("test host exited with " + code)));
  });
}

async function api(port, path) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Authorization: "Bearer " + TOKEN } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}
const seamsOf = (d) => (Array.isArray(d) ? d : d.seams);

async function main() {
  const { child, port } = await startHost();
  const origin = `http://127.0.0.1:${port}`;
  const profile = mkdtempSync(join(tmpdir(), "graft-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
      timeout: 30000,
    });
    const foreign = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin + "/")) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      // Refused on purpose: the first poll before the token (401), the bad percentage (400).
      if (m.type() === "error" && !/status of 40[01]/.test(m.text())) pageErrors.push(m.text());
    });

    await page.goto(origin + "/", { waitUntil: "load" });
    check((await page.title()).includes("graft"), "page title");
    // Without the token the page says it cannot read the API.
    await page.waitForFunction(() => document.querySelector("#conn").textContent.includes("disconnected"));
    check((await page.textContent("#error")).includes("token"), "401 explained on the page");

    await page.fill("#token", TOKEN);
    await page.dispatchEvent("#token", "change");
    const sum = page.locator('section.seam[data-seam="demo.sum"]');
    const upper = page.locator('section.seam[data-seam="demo.upper"]');
    await sum.waitFor();
    await upper.waitFor();
    await page.waitForFunction(() => document.querySelector("#conn").textContent.startsWith("live"));
    check((await sum.locator(".badge.mode").textContent()).trim() === "shadow", "demo.sum shows shadow");
    check((await sum.locator(".badge.breaker").textContent()).includes("closed"), "breaker state shown");
    // Counters move: wait for the call rate and the mismatches the fake candidate makes.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('section[data-seam="demo.sum"] tbody tr')];
      const calls = rows.find((r) => r.cells[0].textContent === "calls");
      const mm = rows.find((r) => r.cells[0].textContent === "mismatch rate");
      return calls && /\/s\)/.test(calls.cells[1].textContent) && mm && !/^0 of|\(0 of/.test(mm.cells[1].textContent);
    });
    check((await sum.locator("svg.lat rect").count()) === 6, "latency chart has 3 C and 3 Rust bars");
    check((await sum.locator("svg.lat rect >> nth=0").getAttribute("height")) !== "0.0", "C p50 bar has height");

    // Change a mode with a click, then read the API.
    await upper.locator('button.mode-btn[data-mode="candidate"]').click();
    await upper.locator(".msg.ok").waitFor();
    let s = seamsOf(await api(port, "/api/seams")).find((x) => x.name === "demo.upper");
    check(s.mode === "candidate", `API shows candidate after the click (got ${s.mode})`);
    await page.waitForFunction(() =>
      document.querySelector('section[data-seam="demo.upper"] .mode-btn.active').dataset.mode === "candidate");

    // Canary with a percentage typed in.
    await upper.locator("input.percent").fill("12.5");
    await upper.locator('button.mode-btn[data-mode="canary"]').click();
    await page.waitForFunction(() =>
      document.querySelector('section[data-seam="demo.upper"] .badge.mode').textContent === "canary 12.5%");
    s = await api(port, "/api/seams/demo.upper");
    check(s.mode === "canary" && Math.abs(s.percent - 12.5) < 1e-9, `API shows canary 12.5% (got ${s.mode} ${s.percent})`);

    // An invalid percentage is refused, shown, and changes nothing.
    await upper.locator("input.percent").fill("150");
    await upper.locator("button.apply").click();
    await upper.locator(".msg.err").waitFor();
    check((await upper.locator(".msg").textContent()).includes("percent"), "refusal message shown");
    s = await api(port, "/api/seams/demo.upper");
    check(s.mode === "canary" && Math.abs(s.percent - 12.5) < 1e-9, "refused change left the seam alone");

    await page.screenshot({ path: screenshot, fullPage: true });
    check(foreign.length === 0, "requests to other origins: " + foreign.join(", "));
    check(pageErrors.length === 0, "page errors: " + pageErrors.join(" | "));
  } finally {
    if (context) await context.close().catch(() => {});
    child.kill("SIGTERM");
    rmSync(profile, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => { console.error("FAIL: browser test timed out"); process.exit(1); }, 90000);
main().then(() => {
  clearTimeout(watchdog);
  if (failures.length) {
    for (const f of failures) console.error("FAIL: " + f);
    process.exit(1);
  }
  console.log(`browser: dashboard checks passed, screenshot ${screenshot}`);
  process.exit(0);
}, (e) => {
  clearTimeout(watchdog);
  console.error("FAIL: " + (e && e.stack ? e.stack : e));
  for (const f of failures) console.error("FAIL: " + f);
  process.exit(1);
});
