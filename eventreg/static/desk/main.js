/* The reception desk (templates/reception/desk.html): camera and USB-scanner check-in, search,
 * walk-ins, counters — decided on the device, confirmed by the server.
 *
 * The verdict comes from the local roster (roster.js) and the pass's signature (passcheck.js),
 * shown at once; the operation is queued (queue.js) and sent; the server's answer updates the
 * row, and where it differs from the device's verdict the desk says so. No switch between
 * online and offline: the banner says when the server cannot be reached or something is unsent.
 * Server data reaches the page only through textContent, never as HTML.
 */

import { readPass, verifierName } from "./passcheck.js";
import { Queue } from "./queue.js";
import { Roster } from "./roster.js";
import { Store, wipe } from "./store.js";
import { decidePass, decideRow } from "./verdict.js";
import { fetchJson } from "./net.js";
import { fold } from "./fold.js";

const CFG = JSON.parse(document.getElementById("desk-config").textContent);
const T = JSON.parse(document.getElementById("desk-i18n").textContent);
const $ = (id) => document.getElementById(id);

const COUNTS_EVERY_MS = 3000;
const RESULT_MS = { good: 6000, bad: 9000, touched: 20000 };
const GREEN = ["ok", "walk_in"], AMBER = ["already_checked_in", "conflict", "walk_in_overflow"];
const NEUTRAL = ["undone", "not_ready"];

// Test hook (docs/offline-desk.md): every verdict, ms from Enter or decode to the verdict painted.
window.deskMetrics = window.deskMetrics || { verdicts: [] };

const params = new URLSearchParams(window.location.search);
const state = {
  desk: (params.get("desk") || CFG.desk || "").trim().slice(0, 50) || CFG.desk,
  sessionId: Number(params.get("session")) || CFG.session_id || null,
  row: "", resultTimer: 0, current: null, countsAt: 0, waiting: null,
};

let store = null, roster = null, queue = null;
let pending = { byId: new Map(), byPass: new Map(), walkIns: [] };

function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, (_m, key) => (values[key] == null ? "" : String(values[key])));
}
function regUrl(template, id) { return template.replace(String(CFG.reg), String(id)); }
function setText(el, text) { el.textContent = text || ""; el.hidden = !text; }
function words(code) { return T.results[code] || T.error; }

function timeOf(iso) {
  const tz = (roster && roster.meta && roster.meta.event && roster.meta.event.timezone) || CFG.timezone;
  return new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false })
    .format(new Date(iso));
}

// ---- What this desk did and the server has not acknowledged, laid over the roster -------------

function passKey(pass) { return pass.registrationId != null ? "r" + pass.registrationId : "e" + pass.entryId; }

function recomputePending() {
  const next = { byId: new Map(), byPass: new Map(), walkIns: [] };
  queue.ops.forEach((op) => {
    const local = op.local || {};
    const inAt = { checked_in_at: op.at, checked_in_time: timeOf(op.at), checked_in_desk: op.desk, pending: true };
    if ((op.kind === "scan" || op.kind === "checkin") && local.result === "ok") {
      if (local.registration_id != null) next.byId.set(local.registration_id, inAt);
      if (local.pass_key) next.byPass.set(local.pass_key, { ...local.row, ...inAt });
    } else if (op.kind === "undo" && local.result === "undone") {
      next.byId.set(local.registration_id, { checked_in_at: null, checked_in_time: null, checked_in_desk: null, pending: true });
    } else if (op.kind === "walk_in" && local.row) {
      next.walkIns.push({ ...local.row, ...inAt });
    }
  });
  pending = next;
}

function view(row) {
  const effect = row && pending.byId.get(row.id);
  return effect ? { ...row, ...effect } : row;
}

function lookup(pass) {
  const row = pass.registrationId != null ? roster.byRegistration(pass.registrationId) : roster.byEntryId(pass.entryId);
  const mine = pending.byPass.get(passKey(pass));  // let in here already, before the roster knew the pass
  if (mine && (!row || mine.v > row.v)) return mine;
  return row ? view(row) : null;
}

// ---- Sound (WebAudio beeps: one high for ok, two low for a problem) ---------------------------
let audio = null;
function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume();
  } catch (_e) { audio = null; }
}
function beep(kind) {
  unlockAudio();
  if (!audio) return;
  const notes = kind === "good" ? [[1320, 0, 0.16]] : kind === "amber" ? [[660, 0, 0.14], [660, 0.2, 0.14]]
    : [[220, 0, 0.2], [220, 0.28, 0.2]];
  const t0 = audio.currentTime + 0.01;
  notes.forEach((n) => {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = kind === "good" ? "sine" : "square";
    osc.frequency.value = n[0];
    gain.gain.setValueAtTime(0.0001, t0 + n[1]);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + n[1] + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + n[1] + n[2]);
    osc.connect(gain).connect(audio.destination);
    osc.start(t0 + n[1]);
    osc.stop(t0 + n[1] + n[2] + 0.02);
  });
  if (kind !== "good" && navigator.vibrate) navigator.vibrate([120, 80, 120]);
}
document.addEventListener("pointerdown", unlockAudio, { passive: true });
document.addEventListener("keydown", unlockAudio);

// ---- The result panel -------------------------------------------------------------------------
const result = $("result");
const part = (name) => result.querySelector(".result-" + name);

function kindOf(code) {
  if (GREEN.includes(code)) return "good";
  if (AMBER.includes(code)) return "amber";
  if (NEUTRAL.includes(code)) return "info";
  return "bad";
}

/** ``note``: a line under the message (a provisional verdict, the server's different answer). */
function showResult(code, messageText, r, { note = "", opId = null, quiet = false, passText = null } = {}) {
  const kind = kindOf(code);
  state.current = { code, registration: r, opId, passText };
  result.className = "result result-" + kind;
  result.dataset.result = code;
  part("icon").textContent = { good: "✓", amber: "!", info: "↺", bad: "✕" }[kind];
  part("message").textContent = messageText;
  setText(part("note"), note);
  setText(part("when"), code === "already_checked_in" && r && r.checked_in_time
    ? fmt(T.at_by, { time: r.checked_in_time, desk: r.checked_in_desk || "" }) : "");
  setText(part("name"), r && r.name);
  setText(part("kana"), r && r.kana);
  setText(part("org"), r && [r.organization, r.department].filter(Boolean).join(" "));
  setText(part("session"), r && r.session && [r.session.when, r.session.title].filter(Boolean).join(" "));
  $("result-security").hidden = !(r && r.not_on_security_list && kind !== "bad");
  part("hint").hidden = kind !== "bad";
  showActions(code, r);
  result.hidden = false;
  resetLater(RESULT_MS[kind === "bad" ? "bad" : "good"]);
  if (!quiet) beep(kind === "info" ? "amber" : kind);
}

function showActions(code, r) {
  const kind = kindOf(code);
  const numbered = r && typeof r.id === "number";  // a walk-in the server has not numbered yet has no PDF page
  const badge = $("result-badge");
  badge.hidden = !(r && r.name && r.status === "confirmed" && (kind === "good" || kind === "amber"));
  if (!badge.hidden) badge.href = numbered ? regUrl(CFG.urls.badge, r.id) : "#";
  $("result-undo").hidden = !(numbered && (code === "ok" || code === "already_checked_in") && r.checked_in_at);
}

/** Records the verdict for the test hook once the browser has painted it. */
function painted(t0, source, code) {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.deskMetrics.verdicts.push({ ms: performance.now() - t0, source, result: code,
                                       mode: document.body.dataset.deskMode || "" });
  }));
}

function resetLater(ms) {
  clearTimeout(state.resultTimer);
  state.resultTimer = setTimeout(hideResult, ms);
  const bar = part("timer");
  bar.style.animation = "none";
  void bar.offsetWidth;  // restart the shrinking bar
  bar.style.animation = "desk-timer " + ms + "ms linear forwards";
}

function hideResult() {
  clearTimeout(state.resultTimer);
  const inside = result.contains(document.activeElement);  // a result button had the focus: back to the scanner
  result.hidden = true;
  state.current = null;
  refocus(inside);
}

$("result-next").addEventListener("click", hideResult);

// Badges print from the page (badge.js, an HTML card): no server needed, so a person checked in
// offline gets one, and no PDF in a frame, which Chrome on Android cannot print. The link's PDF
// stays for a new tab asked for by hand.
function printFromPage(e, registration, passText) {
  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  const href = e.currentTarget.getAttribute("href");
  import("./badge.js")
    .then((m) => m.printBadge(registration, { title: CFG.event_title }, passText))
    .catch(() => { if (href && href !== "#") window.open(href, "_blank", "noopener"); });
}
$("result-badge").addEventListener("click", (e) => {
  if (state.current && state.current.registration) printFromPage(e, state.current.registration, state.current.passText);
});
result.addEventListener("pointerdown", () => { if (!result.hidden) resetLater(RESULT_MS.touched); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !result.hidden) hideResult(); });

$("result-undo").addEventListener("click", () => {
  const cur = state.current;
  if (cur && cur.registration) undo(cur.registration, performance.now());
});

// ---- The operations: decided here, queued, confirmed by the server ---------------------------

/** Before the first roster (a first visit, a few hundred ms): the scan waits and is decided
 * as soon as the roster is there, instead of a wrong "unknown". */
function notReady(retry) {
  state.waiting = retry;
  showResult("not_ready", notReadyText(), null, { quiet: true });
}

/** Still loading, or nothing on this device and no server to load it from (a first visit
 * while offline, or after the wipe hours after the event): say which. */
function notReadyText() { return roster.reachable === false ? T.no_roster_offline : T.not_ready; }

function whenReady() {
  const retry = state.waiting;
  state.waiting = null;
  if (retry && roster.ready) {
    if (state.current && state.current.code === "not_ready") hideResult();
    retry();
  }
}

function afterChange() {
  recomputePending();
  renderCounts();
  renderBanner();
  if (searchActive()) runSearch();
}

async function submitPayload(payload, method, t0) {
  payload = (payload || "").trim();
  if (!payload) return;
  if (!roster.ready) return notReady(() => submitPayload(payload, method, t0));
  const pass = await readPass(payload, roster.meta.key);
  const verdict = decidePass(pass, { eventId: CFG.event_id, sessionId: state.sessionId, lookup,
                                     resultOfStatus: roster.meta.result_of_status });
  const ok = verdict.result === "ok";
  const now = new Date().toISOString();
  let shown = verdict.row;
  if (ok) shown = { ...(verdict.row || {}), checked_in_at: now, checked_in_time: timeOf(now), checked_in_desk: state.desk };
  const local = { result: verdict.result, provisional: verdict.provisional,
                  registration_id: verdict.row && typeof verdict.row.id === "number" && !verdict.provisional ? verdict.row.id : null };
  if (ok && verdict.provisional) {
    local.pass_key = passKey(pass);
    local.row = { ...(verdict.row || {}), id: pass.registrationId != null ? pass.registrationId : "pass:" + pass.entryId,
                  entry_id: pass.entryId, v: pass.entryVersion, status: "confirmed", provisional: true };
  }
  // The verdict goes too: a desk that said "already checked in" admitted nobody (no conflict).
  const op = queue.add("scan", { payload, session_id: state.sessionId, method, verdict: verdict.result }, state.desk, local);
  afterChange();
  showResult(verdict.result, words(verdict.result), verdict.row ? shown : (ok ? shown : null),
             { note: verdict.provisional ? T.provisional : "", opId: op.id, passText: pass ? payload : null });
  painted(t0, method, verdict.result);
}

function checkIn(row, t0) {
  if (!roster.ready) return notReady(() => checkIn(row, t0));
  const verdict = decideRow(view(row), { sessionId: state.sessionId, resultOfStatus: roster.meta.result_of_status });
  const now = new Date().toISOString();
  const shown = verdict.result === "ok" ? { ...view(row), checked_in_at: now, checked_in_time: timeOf(now), checked_in_desk: state.desk } : view(row);
  const op = queue.add("checkin", { registration_id: row.id, session_id: state.sessionId, verdict: verdict.result }, state.desk,
                       { result: verdict.result, registration_id: row.id });
  afterChange();
  showResult(verdict.result, words(verdict.result), shown, { opId: op.id });
  painted(t0, "search", verdict.result);
}

function undo(row, t0) {
  const current = view(roster.byRegistration(row.id)) || row;
  const code = current.checked_in_at ? "undone" : "not_checked_in";
  const op = queue.add("undo", { registration_id: row.id }, state.desk, { result: code, registration_id: row.id });
  afterChange();
  const shown = { ...current, checked_in_at: null, checked_in_time: null, checked_in_desk: null };
  showResult(code, words(code), shown, { opId: op.id });
  painted(t0, "undo", code);
}

/** The server's answer to one of our operations. */
async function answered(op, answer) {
  if (answer.registration) await roster.put(answer.registration);
  const local = (op.local || {}).result;
  const same = local === answer.result;
  const onScreen = state.current && state.current.opId === op.id;
  if (onScreen && !same) {
    showResult(answer.result, answer.message || words(answer.result), answer.registration || state.current.registration,
               { note: T.server_says, opId: op.id });
  } else if (onScreen && answer.registration) {  // the same verdict, now with the server's row (a walk-in's number)
    state.current.registration = answer.registration;
    showActions(state.current.code, answer.registration);
  } else if (!same) {
    const r = answer.registration || (op.local && op.local.row);
    notice([timeOf(op.at), r && r.name, answer.message || words(answer.result)].filter(Boolean).join(" · "));
  }
  if (answer.conflict || answer.task) roster.syncNow();  // the desk's list of conflicts and tasks
}

// ---- Conflicts, tasks and the server's different answers --------------------------------------

function notice(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("desk-notices").prepend(li);
  renderIssues();
}

function renderIssues() {
  const meta = roster && roster.meta;
  const conflicts = (meta && meta.conflicts) || [], tasks = (meta && meta.tasks) || [];
  $("desk-conflicts").replaceChildren(...conflicts.map((c) => {
    const li = document.createElement("li");
    li.textContent = [c.name, c.text].filter(Boolean).join(" — ");
    return li;
  }));
  $("desk-tasks").replaceChildren(...tasks.map((t) => {
    const li = document.createElement("li");
    li.textContent = t.text;
    return li;
  }));
  $("desk-conflicts-block").hidden = !conflicts.length;
  $("desk-tasks-block").hidden = !tasks.length;
  $("desk-notices-block").hidden = !$("desk-notices").children.length;
  $("desk-issues").hidden = !conflicts.length && !tasks.length && !$("desk-notices").children.length;
}

// ---- The banner and the counters --------------------------------------------------------------

function renderBanner() {
  const offline = roster ? roster.reachable === false : false;
  const expired = roster ? roster.lastStatus === 401 || roster.lastStatus === 403 : false;
  const n = queue ? queue.size : 0;
  document.body.dataset.deskMode = offline ? "offline" : "online";
  const banner = $("desk-banner");
  banner.hidden = !offline && !expired && n === 0;
  banner.classList.toggle("desk-banner-offline", offline || expired);
  const count = document.createElement("span");
  count.id = "desk-queue-count";
  count.textContent = String(n);
  const [before, after] = (offline ? T.banner_offline : T.banner_sending).split("{n}");
  banner.replaceChildren(document.createTextNode((expired ? T.expired + " " : "") + before), count,
                         document.createTextNode(after || ""));
}

function renderCounts() {
  const base = roster && roster.meta && roster.meta.counts;
  if (!base) return;
  const values = { ...base };
  let unsent = 0;
  queue.ops.forEach((op) => {
    const local = (op.local || {}).result;
    if (op.kind === "walk_in" && local === "walk_in") {
      values.walk_ins += 1; values.checked_in += 1; values.confirmed += 1; unsent += 1;
    } else if ((op.kind === "scan" || op.kind === "checkin") && local === "ok") {
      values.checked_in += 1; values.not_arrived = Math.max(0, values.not_arrived - 1); unsent += 1;
    } else if (op.kind === "undo" && local === "undone") {
      values.checked_in = Math.max(0, values.checked_in - 1); values.not_arrived += 1; unsent += 1;
    }
  });
  document.querySelectorAll("[data-count]").forEach((el) => {
    const n = values[el.dataset.count];
    if (n != null) el.textContent = String(n);
  });
  // Honest about where the numbers come from: the server's last counts, plus this desk's unsent.
  setText($("counts-note"), unsent ? fmt(T.counts_unsent, { n: unsent }) : "");
}

async function refreshCounts() {
  if (document.hidden || !roster.ready || Date.now() - state.countsAt < COUNTS_EVERY_MS) return;
  state.countsAt = Date.now();
  const res = await fetchJson(CFG.urls.counts + (state.sessionId ? "?session_id=" + state.sessionId : ""));
  if (res.status === 200 && res.data) {
    await roster.setCounts(res.data);
    renderCounts();
  }
}

// ---- Scanning: camera and keyboard (USB/Bluetooth scanners type the code and Enter) ----------

const scanInput = $("scan-input");
scanInput.addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const t0 = performance.now();
  const value = scanInput.value;
  scanInput.value = "";
  submitPayload(value, "keyboard", t0);
});

// The scanner's input has the focus whenever nothing else does. Focus that Tab moved to a button
// stays there (keyboard users reach the camera and the result's buttons); a tap on a button gives
// it back to the scanner; and a code typed while a button has the focus still goes to the scanner.
function typingElsewhere() {
  const el = document.activeElement;
  return el && el !== scanInput && el.matches("input, select, textarea, [contenteditable]");
}
function focusNowhere() {
  const el = document.activeElement;
  return !el || el === document.body || el === document.documentElement;
}
function refocus(force) {
  if (force === true ? !typingElsewhere() : focusNowhere()) scanInput.focus({ preventScroll: true });
}
scanInput.addEventListener("blur", () => { setTimeout(refocus, 200); });
document.addEventListener("click", (e) => {
  if (e.detail === 0) return;  // Enter or Space on a button: the keyboard user's focus stays put
  if (!e.target.closest("input, select, textarea, label, summary, #walkin-form")) setTimeout(() => refocus(true), 0);
});
window.addEventListener("focus", () => { setTimeout(refocus, 0); });
document.addEventListener("keydown", (e) => {
  // A USB scanner types printable characters (never a space): they go to the scanner's input.
  if (e.key.length === 1 && e.key !== " " && !e.ctrlKey && !e.metaKey && !e.altKey &&
      document.activeElement !== scanInput && !typingElsewhere()) {
    scanInput.focus({ preventScroll: true });
  }
}, true);
function resultActions() {
  return ["result-badge", "result-undo", "result-next"].map($).filter((el) => !el.hidden);
}
scanInput.addEventListener("keydown", (e) => {
  if (e.key !== "Tab" || e.shiftKey || result.hidden) return;
  e.preventDefault();  // the result covers the page: Tab goes to its buttons first
  resultActions()[0].focus();
});
result.addEventListener("keydown", (e) => {
  if (e.key === "Tab" && e.shiftKey && document.activeElement === resultActions()[0]) {
    e.preventDefault();
    scanInput.focus({ preventScroll: true });
  }
});

const video = $("camera-video"), camStatus = $("camera-status"), camButton = $("camera-toggle");
// Camera: camera.js (BarcodeDetector, else zxing-wasm in a worker), imported when a camera starts,
// so a USB-scanner desk never loads a decoder into the page (the service worker keeps it).
let scanner = null;
const CAMERA_PROBLEMS = { insecure: T.camera_insecure, denied: T.camera_denied, none: T.camera_none, decoder: T.camera_decoder };

function onCode(text, info) {
  // camera.js reports a pass once while it stays in view; the time is the frame's that held it.
  submitPayload(text, "camera", info && info.at ? info.at : performance.now());
}

function setCamera(on, note) {
  camButton.setAttribute("aria-pressed", on ? "true" : "false");
  $("camera").hidden = !on;
  camStatus.textContent = note || "";
  camStatus.className = "camera-status" + (note && !on ? " camera-problem" : "");
}
async function startCamera() {
  try {
    const camera = await import("./camera.js");
    scanner = scanner || camera.createScanner({ video, onCode, onHint(hint) {
      camStatus.textContent = hint === "closer" ? T.camera_closer : T.camera_on;
    } });
    await scanner.start();
    setCamera(true, T.camera_on);
  } catch (error) {
    setCamera(false, CAMERA_PROBLEMS[error && error.code] || T.camera_decoder);
  }
}
function stopCamera() {
  if (scanner) scanner.stop();
  setCamera(false, "");
}
camButton.addEventListener("click", () => {
  if (scanner && scanner.running) stopCamera(); else startCamera();
});

// ---- Search (name, furigana in カナ or ひらがな, organization; kana rows), on the device -------

const searchInput = $("search-input"), list = $("search-results"), note = $("search-note");
const rowTemplate = $("person-row");
let searchTimer = 0;

function searchActive() { return searchInput.value.trim() !== "" || state.row !== ""; }

function runSearch() {
  clearTimeout(searchTimer);
  if (!searchActive()) { list.replaceChildren(); note.textContent = T.hint; return; }
  if (!roster.ready) { note.textContent = notReadyText(); return; }
  const people = roster.search(searchInput.value.trim(), { row: state.row, sessionId: state.sessionId,
                                                           extra: pending.walkIns }).map(view);
  note.textContent = people.length ? fmt(T.results_found, { n: people.length }) : T.no_results;
  list.replaceChildren(...people.map(personRow));
}

function personRow(r) {
  const li = rowTemplate.content.firstElementChild.cloneNode(true);
  li.dataset.id = r.id;
  li.querySelector(".person-name").textContent = r.name;
  li.querySelector(".person-kana").textContent = r.kana;
  const when = CFG.several_sessions && !state.sessionId && r.session ? r.session.when : "";
  setText(li.querySelector(".person-org"), [r.organization, when].filter(Boolean).join(" · "));
  const status = li.querySelector(".status");
  status.textContent = T[r.status] || r.status;
  status.className = "status status-" + r.status;
  status.hidden = r.status === "confirmed";  // only what needs attention: the waiting list
  const checkedIn = li.querySelector(".person-in");
  setText(checkedIn, r.checked_in_at ? "✓ " + fmt(T.checked_in_at, { time: r.checked_in_time }) +
                                      (r.checked_in_desk ? " · " + r.checked_in_desk : "") : "");
  if (r.checked_in_at) li.classList.add("person-done");
  if (r.walk_in) checkedIn.textContent += " · " + T.walk_in;
  if (r.pending) checkedIn.textContent += " · " + T.unsent;
  li.querySelector(".person-security").hidden = !r.not_on_security_list;
  const numbered = typeof r.id === "number";
  const button = li.querySelector(".person-checkin");
  button.hidden = !!r.checked_in_at || r.status !== "confirmed" || !numbered;
  button.addEventListener("click", () => checkIn(r, performance.now()));
  // Someone checked in already (maybe before the result screen closed): reprint or take it back.
  const done = !!r.checked_in_at && r.status === "confirmed" && numbered;
  const badge = li.querySelector(".person-badge");
  badge.hidden = !done;
  if (done) badge.href = regUrl(CFG.urls.badge, r.id);
  badge.addEventListener("click", (e) => printFromPage(e, r, null));
  const undoButton = li.querySelector(".person-undo");
  undoButton.hidden = !done;
  undoButton.addEventListener("click", () => undo(r, performance.now()));
  return li;
}

function setRow(row) {
  state.row = row;
  document.querySelectorAll(".kana-row").forEach((b) => {
    b.setAttribute("aria-pressed", b.dataset.row === state.row ? "true" : "false");
  });
}
searchInput.addEventListener("input", () => {
  if (state.row && searchInput.value.trim()) setRow("");  // a typed name searches everyone, not one row
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 60);
});
searchInput.addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  e.preventDefault();
  // A scanner that fires while the search field has focus: treat the code as a scan.
  const value = searchInput.value.trim();
  if (/^(ER2:[A-Za-z2-7]{100,200}|3\d{60,})$/.test(value)) {  // a pass (domain/registration/passes.py)
    const t0 = performance.now();
    searchInput.value = "";
    runSearch();
    submitPayload(value, "keyboard", t0);
  } else {
    runSearch();
  }
});
document.querySelectorAll(".kana-row").forEach((button) => {
  button.addEventListener("click", () => {
    setRow(state.row === button.dataset.row ? "" : button.dataset.row);
    if (state.row) searchInput.value = "";  // a row is the whole row, not the row and old text
    runSearch();
  });
});

// ---- Walk-ins: checked on the device (fields, the same name), queued ---------------------------

const form = $("walkin-form");
const KANA = /^[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb\u309b\u309c\s]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function clearErrors() {
  form.querySelectorAll(".error").forEach((el) => { el.textContent = ""; el.hidden = true; });
  form.querySelectorAll(".has-error").forEach((el) => el.classList.remove("has-error"));
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}
const again = $("walkin-again");
function askAgain(text) {
  $("walkin-again-text").textContent = text;
  again.hidden = false;
  $("walkin-submit").hidden = true;
  $("walkin-again-yes").focus();
}
function closeAgain() {
  again.hidden = true;
  $("walkin-submit").hidden = false;
}
$("walkin-again-yes").addEventListener("click", () => sendWalkIn(true));
$("walkin-again-no").addEventListener("click", () => { closeAgain(); $("walkin-submit").focus(); });
form.addEventListener("input", closeAgain);  // another name: the question no longer applies
form.addEventListener("submit", (e) => {
  e.preventDefault();
  sendWalkIn(false);
});

function walkInFields() {
  const data = new FormData(form), fields = {};
  data.forEach((value, key) => { fields[key] = typeof value === "string" ? value.trim() : value; });
  form.querySelectorAll("[name]").forEach((el) => { if (!(el.name in fields)) fields[el.name] = ""; });
  if (!fields.session_id && state.sessionId) fields.session_id = String(state.sessionId);
  return fields;
}

/** What the device can tell before the server: required fields, furigana, an email's shape.
 * The server checks everything again; what it refuses comes back as its answer. */
function walkInErrors(f) {
  const errors = {};
  ["session_id", "family_name", "given_name", "family_kana", "given_kana", "sector"].forEach((name) => {
    if (!f[name]) errors[name] = T.required;
  });
  ["family_kana", "given_kana"].forEach((name) => { if (f[name] && !KANA.test(f[name])) errors[name] = T.kana_only; });
  if (f.email && !EMAIL.test(f.email)) errors.email = T.email_invalid;
  return errors;
}

function katakana(text) {
  return text.replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60));
}

function sendWalkIn(confirm) {
  clearErrors();
  const t0 = performance.now();
  if (!roster.ready) return notReady(() => sendWalkIn(confirm));
  const f = walkInFields();
  const errors = walkInErrors(f);
  const names = Object.keys(errors);
  if (names.length) {
    let first = null;
    form.querySelectorAll("[data-field]").forEach((box) => {  // in the order of the form
      const name = box.dataset.field, err = $("walkin-" + name + "-error");
      if (!errors[name] || !err) return;
      box.classList.add("has-error");
      setText(err, errors[name]);
      const input = box.querySelector("input");
      if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    });
    if (first) first.focus();
    return;
  }
  if (!confirm) {
    const earlier = roster.earlierWalkIn(f.family_name, f.given_name, pending.walkIns);
    if (earlier) {
      askAgain(fmt(T.walk_in_again, { name: earlier.name, time: earlier.checked_in_time || "", desk: earlier.checked_in_desk || "-" }));
      beep("amber");
      return;
    }
  }
  closeAgain();
  const sessionId = Number(f.session_id);
  const session = ((roster.meta && roster.meta.sessions) || []).find((s) => s.id === sessionId);
  const now = new Date().toISOString();
  const row = {
    id: "walk-in:" + crypto.randomUUID(), entry_id: null, v: 0, walk_in: true, status: "confirmed",
    family_name: f.family_name, given_name: f.given_name, family_kana: katakana(f.family_kana), given_kana: katakana(f.given_kana),
    name: f.family_name + " " + f.given_name, kana: katakana(f.family_kana) + " " + katakana(f.given_kana),
    organization: f.organization || "", department: "", session_id: sessionId,
    session: session ? { id: session.id, title: session.title, when: session.when } : null,
    sort_key: katakana(f.family_kana + f.given_kana), search: "", not_on_security_list: false,
  };
  const tables = roster.meta.fold;  // as the server's search_text: one folded field per line
  row.search = [row.family_name + row.given_name, row.family_kana + row.given_kana, row.organization]
    .map((field) => fold(field, tables)).join("\n");
  const fields = { session_id: sessionId, family_name: f.family_name, given_name: f.given_name, family_kana: f.family_kana,
                   given_kana: f.given_kana, organization: f.organization || "", sector: f.sector, email: f.email || "" };
  const op = queue.add("walk_in", { fields, confirm }, state.desk, { result: "walk_in", row });
  form.reset();
  $("walkin").open = false;
  afterChange();
  showResult("walk_in", words("walk_in"), { ...row, checked_in_at: now, checked_in_time: timeOf(now), checked_in_desk: state.desk },
             { opId: op.id });
  painted(t0, "walk_in", "walk_in");
}

// ---- Session and desk name (kept in the URL, so a bookmark sets up a desk) -------------------

function setParam(name, value) {
  const url = new URL(window.location.href);
  if (value) url.searchParams.set(name, value); else url.searchParams.delete(name);
  return url;
}
const sessionSelect = $("desk-session");
if (sessionSelect) {
  if (state.sessionId) sessionSelect.value = String(state.sessionId);
  sessionSelect.addEventListener("change", () => {
    window.location.assign(setParam("session", sessionSelect.value).toString());
  });
}
const deskName = $("desk-name");
deskName.value = state.desk;
deskName.addEventListener("change", () => {
  state.desk = deskName.value.trim().slice(0, 50) || CFG.desk;
  window.history.replaceState(null, "", setParam("desk", state.desk).toString());
});
deskName.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); deskName.blur(); } });
$("desk-settings").addEventListener("submit", (e) => e.preventDefault());

// ---- Sign-out: nothing of the roster stays on this device ------------------------------------

const signOut = document.querySelector(".desk-signout");
signOut.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (queue && queue.size) await queue.flush();
  if (queue && queue.size && !window.confirm(fmt(T.signout_unsent, { n: queue.size }))) return;
  roster && (roster.running = false);
  if (store) store.forget();
  await wipe();
  if ("caches" in window) await caches.delete(CFG.shell_cache);
  signOut.submit();
});

// ---- The shell for offline starts --------------------------------------------------------------

async function keepShell() {
  if (!("serviceWorker" in navigator) || !("caches" in window)) return true;  // nothing this browser can keep
  try {
    await navigator.serviceWorker.register(CFG.urls.sw, { scope: CFG.urls.sw_scope });
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {  // the first visit: the worker claims this page
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
        setTimeout(resolve, 5000);
      });
    }
    const cache = await caches.open(CFG.shell_cache);
    // Everything this page loaded from us (styles, modules, fonts, icons) and what it loads later.
    const loaded = performance.getEntriesByType("resource").map((e) => e.name)
      .filter((u) => u.startsWith(window.location.origin + "/") && !u.includes("/api/"));
    // The browser packages (the camera's decoder, loaded when a camera starts); the fallback
    // verifier only on a browser whose WebCrypto has no Ed25519 (it would never load it otherwise).
    const vendor = JSON.parse(($("desk-vendor") || { textContent: "{}" }).textContent);
    const packages = Object.entries(vendor)
      .filter(([name]) => name !== "noble-ed25519.js" || verifierName() === "noble").map(([, url]) => url);
    const urls = [...new Set([window.location.href, ...loaded, ...[...packages, ...CFG.precache]
      .map((u) => new URL(u, window.location.href).href)])];
    await Promise.all(urls.map(async (url) => {
      if (url !== window.location.href && (await cache.match(url, { ignoreVary: true }))) return;
      const res = await fetch(url, { credentials: "same-origin" });
      if (res.ok) await cache.put(url, res);
    }));
    // Modules of an older version (before an upgrade) are not needed again.
    const version = new URL(import.meta.url).pathname.split("/")[3];
    for (const request of await cache.keys()) {
      const parts = new URL(request.url).pathname.split("/");
      if (parts[1] === "desk" && parts[2] === "app" && parts[3] !== version) await cache.delete(request);
    }
    document.body.dataset.deskShell = "kept";  // for tests: the desk can now start without the server
    return true;
  } catch (_e) { /* no worker or no cache: the desk works, only not from a cold offline start */ }
  return false;
}

/** keepShell again while it fails (a busy or restarting server refused one of the files): a
 * desk whose shell was never kept cannot start offline. */
async function keepShellUntilKept(attempts = 6) {
  for (let n = 0; n < attempts; n += 1) {
    if (await keepShell()) return;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

/** wipe_after has passed (hours after the event's end): the database goes, and the desk keeps
 * working from memory for as long as this page stays open. */
async function forgetAll() {
  if (store.closed) return;
  store.forget();
  await wipe();
}

async function refreshCsrf() {
  const res = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" }).catch(() => null);
  if (!res || !res.ok) return null;
  const page = new DOMParser().parseFromString(await res.text(), "text/html");
  const config = page.getElementById("desk-config");
  return config ? JSON.parse(config.textContent).csrf : null;
}

// ---- Start ---------------------------------------------------------------------------------

async function start() {
  renderBanner();
  refocus();
  if (params.get("camera") === "1") startCamera();
  store = await Store.open(CFG.event_id);
  roster = new Roster({
    url: CFG.urls.roster, store,
    onChange() { renderIssues(); afterChange(); whenReady(); },
    onReachable(ok) {
      renderBanner();
      if (!roster.ready) runSearch();  // "still loading" or "nothing here and no server": say which
      if (ok) { queue.flush(); refreshCounts(); }
    },
    onWipe: forgetAll,
  });
  queue = new Queue({
    store, url: CFG.urls.batches, csrf: CFG.csrf, refreshCsrf,
    onChange: afterChange, onResult: answered,
    onSent(ok, status) {
      if (status === 0 || status >= 500) roster.reachable = false;
      if (ok) roster.syncNow();
      renderBanner();
    },
  });
  await queue.init();
  let saved = await store.load();
  if (saved.wipeAfter && Date.parse(saved.wipeAfter) < Date.now()) {
    await forgetAll();
    saved = { meta: null, cursor: null, wipeAfter: null, rows: [], queue: [], unreadable: 0 };
  }
  queue.adopt(saved.queue);
  roster.keyChanged = () => queue.reseal();
  roster.adopt(saved);
  roster.start();
  queue.start();
  window.addEventListener("online", () => roster.syncNow());
  document.addEventListener("visibilitychange", () => { if (!document.hidden) roster.syncNow(); });
  // The badge card's stylesheet, fonts and QR encoder, loaded while online so that the shell keeps
  // them and a badge prints offline (badge.js).
  const badges = import("./badge.js").then((m) => m.prepareBadges()).catch(() => null);
  await Promise.race([badges, new Promise((resolve) => setTimeout(resolve, 10000))]);
  keepShellUntilKept();
}

start();
