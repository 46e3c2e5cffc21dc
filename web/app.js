// app.js - the /web page: builds an OpenAI-style speech request and plays the audio while it
// streams in (MediaSource for MP3 and AAC), or once complete for formats a MediaSource cannot
// take. No framework and no build step: the server sends this file as it is.
"use strict";

const MIME = {
  mp3: "audio/mpeg", opus: "audio/ogg", aac: "audio/aac",
  flac: "audio/flac", wav: "audio/wav", pcm: "audio/wav", // pcm is wrapped in WAV to play
};
const PCM_RATE = 24000;
// Kokoro voice ids start with a language letter: af_heart is American English, female.
const VOICE_LANGUAGES = {
  a: "English (US)", b: "English (UK)", e: "Spanish", f: "French", h: "Hindi",
  i: "Italian", j: "Japanese", p: "Portuguese (BR)", z: "Chinese",
};
const DEFAULT_VOICE = "af_heart";

const $ = (id) => document.getElementById(id);
let voices = []; // [{id, name}] from GET /v1/audio/voices
let job = null;  // the synthesis in progress or last done: {controller, chunks, bytes, format}

// ------------------------------------------------------------------ small helpers

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

function setStatus(text) { $("status").textContent = text; }

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function authHeaders() {
  const key = $("api-key").value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// A readable sentence from an error response: the OpenAI shape {"error": {message, param}},
// the seed shape {"error", "message"}, or whatever text came back.
async function errorMessage(res) {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (body.error && typeof body.error === "object" && body.error.message) {
      const param = body.error.param ? ` (${body.error.param})` : "";
      return `${body.error.message}${param} - HTTP ${res.status}`;
    }
    if (body.message) return `${body.error || "Error"}: ${body.message} - HTTP ${res.status}`;
  } catch (_) { /* not JSON: fall through */ }
  // Plain text is shown (briefly); an HTML error page from a proxy is not.
  const plain = !/html/i.test(res.headers.get("Content-Type") || "") && !/^\s*</.test(text);
  const detail = plain && text.trim() ? `: ${text.trim().replace(/\s+/g, " ").slice(0, 200)}` : "";
  return `HTTP ${res.status} ${res.statusText}${detail}`.trim();
}

// ------------------------------------------------------------------ voices and blending

async function loadVoices() {
  try {
    const res = await fetch("/v1/audio/voices", { headers: authHeaders() });
    if (!res.ok) throw new Error(await errorMessage(res));
    const body = await res.json();
    if (!Array.isArray(body.voices)) throw new Error("the server sent no voice list");
    voices = body.voices.map((v) => (typeof v === "string" ? { id: v, name: v } : v));
  } catch (e) {
    showError(`Could not load the voices (${e.message}); the server's default voice is used.`);
  }
  if (voices.length)
    addVoiceRow(voices.some((v) => v.id === DEFAULT_VOICE) ? DEFAULT_VOICE : voices[0].id);
  renumberVoices();
  updateVoiceSpec();
}

function voiceSelect(selected) {
  const select = document.createElement("select");
  const groups = new Map();
  for (const v of voices) {
    const language = VOICE_LANGUAGES[v.id[0]] || "Other";
    if (!groups.has(language)) {
      const group = document.createElement("optgroup");
      group.label = language;
      groups.set(language, group);
      select.append(group);
    }
    groups.get(language).append(new Option(v.name && v.name !== v.id ? `${v.id} - ${v.name}` : v.id,
                                           v.id, false, v.id === selected));
  }
  return select;
}

function addVoiceRow(selected) {
  const rows = $("voice-rows");
  const n = rows.children.length + 1;
  const row = document.createElement("div");
  row.className = "voice-row";

  const select = voiceSelect(selected);
  select.id = `voice-${n}`;
  select.className = "voice";
  const label = document.createElement("label");
  label.htmlFor = select.id;
  label.textContent = `Voice ${n}`;

  const weight = document.createElement("input");
  Object.assign(weight, { type: "number", min: "1", max: "10", step: "1", value: "1" });
  weight.id = `weight-${n}`;
  weight.className = "weight";
  const weightLabel = document.createElement("label");
  weightLabel.htmlFor = weight.id;
  weightLabel.textContent = "Weight";

  const remove = document.createElement("button");
  Object.assign(remove, { type: "button", className: "secondary remove", textContent: "Remove" });
  remove.setAttribute("aria-label", `Remove voice ${n}`);
  remove.addEventListener("click", () => { row.remove(); renumberVoices(); updateVoiceSpec(); });

  row.append(label, select, weightLabel, weight, remove);
  rows.append(row);
  for (const el of [select, weight]) el.addEventListener("input", updateVoiceSpec);
  renumberVoices();
  updateVoiceSpec();
}

// Keeps the labels "Voice 1..n" in order and hides the weight and Remove of a lone voice.
function renumberVoices() {
  const rows = [...$("voice-rows").children];
  rows.forEach((row, i) => {
    row.querySelector("label").textContent = `Voice ${i + 1}`;
    row.querySelector(".remove").setAttribute("aria-label", `Remove voice ${i + 1}`);
    row.classList.toggle("alone", rows.length === 1);
  });
  $("add-voice").disabled = voices.length === 0;
}

// "af_heart" for one voice, "af_bella+af_sky" for an even blend, "af_bella(2)+af_sky(1)" else.
function voiceSpec() {
  const parts = [...$("voice-rows").children].map((row) => ({
    id: row.querySelector("select").value,
    weight: Math.max(1, Math.round(Number(row.querySelector(".weight").value) || 1)),
  })).filter((p) => p.id);
  if (parts.length <= 1) return parts[0]?.id || "";
  const even = parts.every((p) => p.weight === parts[0].weight);
  return parts.map((p) => (even ? p.id : `${p.id}(${p.weight})`)).join("+");
}

function updateVoiceSpec() {
  $("voice-spec").textContent = voiceSpec() || "(the server's default)";
}

// ------------------------------------------------------------------ playback

function setSource(url) {
  const player = $("player");
  player.pause();
  if (player.src.startsWith("blob:")) URL.revokeObjectURL(player.src);
  if (url) player.src = url;
  else { player.removeAttribute("src"); player.load(); }
}

// Whether this format can be played while it arrives: a MediaSource takes MP3 and ADTS AAC.
function canStream(format) {
  const type = { mp3: "audio/mpeg", aac: "audio/aac" }[format];
  return Boolean(type && window.MediaSource && MediaSource.isTypeSupported(type));
}

function appendBuffer(buffer, data) {
  return new Promise((resolve, reject) => {
    const done = () => { buffer.removeEventListener("error", failed); resolve(); };
    const failed = () => {
      buffer.removeEventListener("updateend", done);
      reject(new Error("the browser could not decode the audio it received"));
    };
    buffer.addEventListener("updateend", done, { once: true });
    buffer.addEventListener("error", failed, { once: true });
    buffer.appendBuffer(data);
  });
}

// Reads the response body chunk by chunk, calling onChunk(bytes) for each.
async function readBody(res, current, onChunk) {
  const reader = res.body.getReader();
  for (;;) {
    let part;
    try {
      part = await reader.read();
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new Error(`the audio stream broke off after ${kb(current.bytes)} (${e.message})`);
    }
    if (part.done) return;
    current.chunks.push(part.value);
    current.bytes += part.value.byteLength;
    await onChunk(part.value);
  }
}

async function playStreaming(res, current, started) {
  const type = { mp3: "audio/mpeg", aac: "audio/aac" }[current.format];
  const source = new MediaSource();
  setSource(URL.createObjectURL(source));
  await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
  const buffer = source.addSourceBuffer(type);
  buffer.mode = "sequence";
  let first = true;
  await readBody(res, current, async (data) => {
    await appendBuffer(buffer, data);
    if (first) {
      first = false;
      current.firstAudioMs = performance.now() - started;
      setStatus(`First audio after ${secs(current.firstAudioMs)}; streaming...`);
      $("player").play().catch(() => setStatus("Press play to listen."));
    } else {
      setStatus(`Streaming... ${kb(current.bytes)} received`);
    }
  });
  if (source.readyState === "open") source.endOfStream();
}

// 44-byte WAV header + the raw s16le mono samples, so that <audio> can play PCM.
function wavFromPcm(chunks) {
  const size = chunks.reduce((n, c) => n + c.byteLength, 0);
  const header = new DataView(new ArrayBuffer(44));
  const text = (at, s) => [...s].forEach((ch, i) => header.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF"); header.setUint32(4, 36 + size, true); text(8, "WAVE");
  text(12, "fmt "); header.setUint32(16, 16, true); header.setUint16(20, 1, true);
  header.setUint16(22, 1, true); header.setUint32(24, PCM_RATE, true);
  header.setUint32(28, PCM_RATE * 2, true); header.setUint16(32, 2, true);
  header.setUint16(34, 16, true); text(36, "data"); header.setUint32(40, size, true);
  return new Blob([header, ...chunks], { type: "audio/wav" });
}

async function playWhole(res, current) {
  await readBody(res, current, () => setStatus(`Receiving... ${kb(current.bytes)}`));
  const blob = current.format === "pcm"
    ? wavFromPcm(current.chunks) : new Blob(current.chunks, { type: MIME[current.format] });
  setSource(URL.createObjectURL(blob));
  $("player").play().catch(() => setStatus("Press play to listen."));
}

// ------------------------------------------------------------------ the request

function setBusy(busy) {
  $("speak").disabled = busy;
  $("stop").disabled = !busy;
  $("download").disabled = busy || !job || job.bytes === 0;
}

async function speak(event) {
  event.preventDefault();
  stop();
  clearError();
  setSource(null); // the last audio stops and goes, whatever this request gives
  const format = $("format").value;
  const request = {
    model: "kokoro",
    input: $("text").value,
    response_format: format,
    speed: Number($("speed").value),
    stream: true,
  };
  const voice = voiceSpec();
  if (voice) request.voice = voice;
  if ($("language").value) request.lang_code = $("language").value;

  const current = { controller: new AbortController(), chunks: [], bytes: 0, format };
  job = current;
  setBusy(true);
  setStatus("Synthesising...");
  const started = performance.now();
  try {
    const res = await fetch("/v1/audio/speech", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify(request),
      signal: current.controller.signal,
    });
    if (!res.ok) throw new Error(await errorMessage(res));
    if (canStream(format) && res.body) await playStreaming(res, current, started);
    else await playWhole(res, current);
    if (current.bytes === 0) throw new Error("the server sent no audio");
    setStatus(`Done: ${kb(current.bytes)} of ${format.toUpperCase()} in ` +
              `${secs(performance.now() - started)}.`);
  } catch (e) {
    current.chunks = []; // nothing half-made to download
    current.bytes = 0;
    if (e.name === "AbortError") setStatus("Stopped.");
    else { setStatus(""); showError(e.message); }
  } finally {
    if (job === current) {
      current.controller = null;
      setBusy(false);
    }
  }
}

// Aborting the fetch closes the connection, which makes the server stop synthesising.
function stop() {
  if (job && job.controller) job.controller.abort();
}

function download() {
  if (!job || job.bytes === 0) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob(job.chunks, { type: MIME[job.format] }));
  link.download = `speech.${job.format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function init() {
  $("speech-form").addEventListener("submit", speak);
  $("stop").addEventListener("click", stop);
  $("download").addEventListener("click", download);
  $("add-voice").addEventListener("click", () => addVoiceRow(voices[0]?.id));
  const speed = () => { $("speed-value").textContent = `${Number($("speed").value).toFixed(2)}×`; };
  $("speed").addEventListener("input", speed);
  const count = () => { $("char-count").textContent = String($("text").value.length); };
  $("text").addEventListener("input", count);
  speed();
  count();
  loadVoices();
}

init();
