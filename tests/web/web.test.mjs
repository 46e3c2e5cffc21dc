// web.test.mjs - the /web page end to end: the real server, Debian's Chromium, a person's steps.
//
// Starts build/kokoro serve on a free 127.0.0.1 port, opens /web in headless Chromium driven by
// playwright-core, types text, blends two voices, synthesises, and checks that the audio element
// started playing while the audio was still streaming in, that it plays real audio, that the
// Download button yields an MP3 ffprobe accepts, and that an API error is shown for bad input.
// Screenshots go to build/test-out/web/. Run with `make test-web` (needs `make model`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUILD = process.env.BUILD || "build";
const KOKORO = path.join(ROOT, BUILD, "kokoro");
const OUT = path.join(ROOT, BUILD, "test-out", "web");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const READY_TIMEOUT_MS = 180_000; // loading the model on a busy 2-core machine
const SPEAK_TIMEOUT_MS = 180_000;
// Three sentences: the server streams them one by one, about eight seconds of speech.
const TEXT = "The quick brown fox jumps over the lazy dog. " +
  "You hear the first sentence while the next ones are still being made. " +
  "When it is complete, the page lets you download it.";

let server, serverLog, base, context, page, userDataDir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls /ready until it answers 200; fails early if the server exits.
async function waitReady(url, deadline) {
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null)
      throw new Error(`kokoro serve exited (${server.exitCode ?? server.signalCode}); ` +
                      `see ${serverLog}`);
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch (_) { /* not listening yet */ }
    if (Date.now() > deadline)
      throw new Error(`kokoro serve not ready after ${READY_TIMEOUT_MS / 1000} s; see ${serverLog}`);
    await sleep(250);
  }
}

before(async () => {
  assert.ok(fs.existsSync(KOKORO), `${KOKORO} is missing: run make first`);
  assert.ok(fs.existsSync(path.join(ROOT, "models", "kokoro.onnx")),
            "models/kokoro.onnx is missing: run make model first");
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  fs.mkdirSync(OUT, { recursive: true });

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serverLog = path.join(OUT, "server.log");
  const log = fs.openSync(serverLog, "w");
  // No probe listener: its default port, 8081, is one for the whole machine, and `make test`
  // runs areas side by side.
  server = spawn(KOKORO, ["serve", "--host", "127.0.0.1", "--port", String(port),
                          "--probe-port", "0"],
                 { cwd: ROOT, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  await waitReady(base, Date.now() + READY_TIMEOUT_MS);

  // A fresh profile each run: no cache, no stored permissions from an earlier run.
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kokoro-web-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    acceptDownloads: true,
    viewport: { width: 1000, height: 1100 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") console.error(`[page] ${m.text()}`); });
});

after(async () => {
  await context?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", (code, signal) => r({ code, signal })));
    server.kill("SIGTERM");
    const result = await Promise.race([exited, sleep(30_000).then(() => null)]);
    if (!result) server.kill("SIGKILL");
    assert.deepEqual(result, { code: 0, signal: null }, "kokoro serve did not exit 0 on SIGTERM");
  }
});

test("the page loads with the server's voices", async () => {
  const res = await page.goto(`${base}/web`);
  assert.equal(res.status(), 200);
  assert.equal(await page.title(), "Kokoro speech");
  const voice = page.getByLabel("Voice 1", { exact: true });
  await voice.waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#voice-1 option").length > 1);
  const ids = await voice.locator("option").evaluateAll((os) => os.map((o) => o.value));
  const listed = (await (await fetch(`${base}/v1/audio/voices`)).json()).voices.map((v) => v.id);
  assert.deepEqual(ids.slice().sort(), listed.slice().sort());
  assert.equal(await voice.inputValue(), "af_heart");
  assert.equal(await page.locator("#error").isHidden(), true, await page.locator("#error").textContent());
});

test("typing and pressing Speak plays the audio while it streams", async () => {
  await page.getByLabel("Text").fill(TEXT);
  await page.getByRole("button", { name: "Add a voice to the blend" }).click();
  await page.getByLabel("Voice 2", { exact: true }).selectOption("af_bella");
  await page.locator("#weight-2").fill("2");
  assert.equal(await page.locator("#voice-spec").textContent(), "af_heart(1)+af_bella(2)");
  await page.getByLabel("Format").selectOption("mp3");

  // Note what the page says at the moment the audio element starts playing.
  await page.evaluate(() => {
    const player = document.getElementById("player");
    window.seen = {};
    player.addEventListener("playing", () => {
      window.seen.status = document.getElementById("status").textContent;
      window.seen.at = performance.now();
    }, { once: true });
  });
  await page.getByRole("button", { name: "Speak" }).click();
  await page.waitForFunction(() => document.getElementById("status").textContent
    .startsWith("Done:") || !document.getElementById("error").hidden,
                             null, { timeout: SPEAK_TIMEOUT_MS });
  const error = page.locator("#error");
  assert.equal(await error.isHidden(), true, `the page shows an error: ${await error.textContent()}`);

  const seen = await page.evaluate(() => window.seen);
  assert.ok(seen.at, "the audio element never started playing");
  assert.match(seen.status, /^(First audio after|Streaming)/,
               `playback began only after the download finished (status: ${seen.status})`);

  // The element holds and plays real audio: several seconds buffered, time moving, no error.
  await page.waitForFunction(() => document.getElementById("player").currentTime > 1.0,
                             null, { timeout: 30_000 });
  const player = await page.evaluate(() => {
    const p = document.getElementById("player");
    return { error: p.error && p.error.message, buffered: p.buffered.length ? p.buffered.end(0) : 0,
             duration: p.duration, time: p.currentTime };
  });
  assert.equal(player.error, null);
  assert.ok(player.buffered > 4, `only ${player.buffered} s of audio buffered for three sentences`);
  assert.ok(player.duration > 4 && player.duration < 30, `duration ${player.duration} s`);
  await page.screenshot({ path: path.join(OUT, "speaking.png"), fullPage: true });
});

test("Download saves the MP3 that was played", async () => {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "speech.mp3");
  const file = path.join(OUT, "speech.mp3");
  await download.saveAs(file);
  const probe = JSON.parse(execFileSync("ffprobe", [
    "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels:format=duration",
    "-of", "json", file]));
  assert.equal(probe.streams[0].codec_name, "mp3");
  assert.equal(probe.streams[0].sample_rate, "24000");
  assert.equal(probe.streams[0].channels, 1);
  assert.ok(Number(probe.format.duration) > 4, `${probe.format.duration} s of audio`);
});

test("bad input shows the API's error", async () => {
  await page.getByLabel("Text").fill("   ");
  await page.getByRole("button", { name: "Speak" }).click();
  const error = page.getByRole("alert");
  await error.waitFor({ state: "visible", timeout: 30_000 });
  const text = await error.textContent();
  assert.match(text, /empty or whitespace-only/);
  assert.match(text, /HTTP 400/);
  assert.equal(await page.getByRole("button", { name: "Download" }).isDisabled(), true);
  // The previous audio is gone rather than playing on beside the error.
  assert.equal(await page.evaluate(() => document.getElementById("player").paused), true);
  await page.screenshot({ path: path.join(OUT, "error.png"), fullPage: true });
});
