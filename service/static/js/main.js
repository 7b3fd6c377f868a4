// The desk page: one patient at a time. A result belongs to the card on the reader: it is
// cleared when that card leaves, when another card arrives, or after the idle time; a new
// card with the ID number already typed is read at once. No build step: native ES modules.
import { api, missingRoute, whenUnauthorized } from "./api.js";
import { startEvents, stopEvents } from "./events.js";
import {
  abandon, checkForPatient, checkinCard, checkTyped, chooseOfficer, correctedCheck, loadOfficers, normaliseCode,
  parseDob, renderInsurance, renderOfficers,
} from "./insurance.js";
import {
  acceptanceOf, clearResultView, fillSlip, renderConnection, renderHistory, renderReaders, renderResult,
  renderStatus, renderStatusBar, setStatus, showError, showPlaceholder,
} from "./render.js";
import { play } from "./sound.js";
import {
  $, el, isoToDmy, KEY_STORE, LANG_STORE, PREFS_STORE, READER_STORE, problemText, slugOf, state, t,
} from "./state.js";

state.seq = 0;
state.typed = null;

// Rough share of the bytes each file holds on a CCCD: the photo (DG2) is most of the read.
const FILE_WEIGHT = { DG2: 14, SOD: 2 };
const FILE_PART = { DG2: "status_part_photo", DG1: "status_part_data", DG13: "status_part_data", SOD: "status_part_signature" };

// -- language and preferences -----------------------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  const lang = $("lang");
  lang.textContent = t("switch_lang");
  lang.setAttribute("aria-label", t("switch_lang_label"));
  lang.lang = state.lang === "vi" ? "en" : "vi";
  document.title = t("app_title");
  $("r-photo").alt = t("photo_alt");
  renderPrefs();
  renderReaders();
  renderDemo();
  renderStatus();
  renderConnection();
  renderHistory(openScan);
  renderOfficers();
  renderStatusBar();
  if (state.errorProblem) showError(state.errorProblem.problem, state.errorProblem.canRetry);
  if (state.scan && state.scan.result) renderResult(state.scan);
  if (state.insurance) renderInsurance(state.insurance);
}

function loadPrefs() {
  try {
    const prefs = JSON.parse(localStorage.getItem(PREFS_STORE) || "{}");
    state.prefs = { large: prefs.large === true, muted: prefs.muted === true };
  } catch {
    state.prefs = { large: false, muted: false };
  }
}

function savePrefs() {
  localStorage.setItem(PREFS_STORE, JSON.stringify(state.prefs));
  renderPrefs();
}

function renderPrefs() {
  document.documentElement.classList.toggle("large", state.prefs.large);
  $("large").textContent = t(state.prefs.large ? "large_on" : "large_off");
  $("large").setAttribute("aria-pressed", String(state.prefs.large));
  $("sound").textContent = t(state.prefs.muted ? "sound_off" : "sound_on");
  $("sound").setAttribute("aria-pressed", String(!state.prefs.muted));
}

// -- log-in -------------------------------------------------------------------------------------
async function login(key) {
  state.key = key;
  const readers = await api("readers");  // throws on a wrong key
  sessionStorage.setItem(KEY_STORE, key);
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  takeReaders(readers);
  await Promise.all([loadConfig(), loadOfficers(), loadAccount()]);
  loadHealth();
  if (state.simulated) loadDemo();
  loadHistory();
  startEvents({ onEvent, onConnected, onReconnect });
  setStatus("status_idle");
  renderStatusBar();
  $("id-input").focus();
}

function logout(message) {
  state.key = null;
  sessionStorage.removeItem(KEY_STORE);
  stopEvents();
  clearPatient(null);
  state.history = [];
  state.lastDone = null;
  state.desk = null;
  state.officers = null;
  state.clinics.clear();
  $("history").replaceChildren();
  $("app-view").hidden = true;
  $("logout").hidden = true;
  $("conn").hidden = true;
  $("desk-name").hidden = true;
  $("officer-box").hidden = true;
  $("statusbar").hidden = true;
  $("login-view").hidden = false;
  $("key-input").value = "";
  const error = $("login-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("key-input").focus();
}
whenUnauthorized(logout);

async function onLoginSubmit(event) {
  event.preventDefault();
  const key = $("key-input").value.trim();
  const error = $("login-error");
  if (!key) {
    error.textContent = t("login_empty");
    error.hidden = false;
    return;
  }
  try {
    await login(key);
  } catch (err) {
    state.key = null;
    error.textContent = err.status === 401 ? t("login_wrong") : t("login_network");
    error.hidden = false;
    $("key-input").select();
  }
}

async function loadConfig() {
  try {
    state.config = { ...state.config, ...(await api("/desk/config")) };
  } catch {
    // an older service: defaults
  }
}

// Who this desk is and how long the service keeps what it reads (shown in the status bar).
async function loadAccount() {
  try {
    state.account = await api("whoami");
  } catch {
    state.account = null;
  }
}

async function loadHealth() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    state.health = await response.json();
  } catch {
    state.health = null;
  }
  renderStatusBar();
}

// -- readers and events -------------------------------------------------------------------------------
function takeReaders(body) {
  state.readers = body.readers || [];
  state.simulated = Boolean(body.simulated);
  $("demo").hidden = !state.simulated;
  renderReaders();
}

function readerNamed(name) {
  return state.readers.find((r) => r.name === name) || null;
}

function updateReader(data) {
  const before = readerNamed(data.name);
  const index = state.readers.findIndex((r) => r.name === data.name);
  if (index >= 0) state.readers[index] = { ...state.readers[index], ...data };
  else state.readers.push(data);
  renderReaders();
  cardChanged(before, readerNamed(data.name));
}

// The card on a reader changed: the shown patient leaves with their card; a waiting read starts.
function cardChanged(before, now) {
  if (!now) return;
  const left = before && before.card_present === true && now.card_present === false;
  const arrived = now.card_present === true && (!before || before.card_present !== true
    || (now.card_since && before.card_since && now.card_since !== before.card_since));
  if (!left && !arrived) return;
  const scan = state.scan;
  if (state.armed && state.armed.reader === now.name) {
    if (arrived) {
      const armed = state.armed;
      state.armed = null;
      startScan(armed.reader, armed.body);
    } else {
      setStatus("status_waiting", {}, null, "waiting");
    }
    return;
  }
  if (!scan || scan.reader !== now.name || !isFinal(scan.state)) return;
  if (!state.acknowledged) return;  // a not-genuine card stays until acknowledged
  if (scan.state === "failed") {
    // After a failed read the typed number stays: the card put back is read at once.
    if (arrived && $("id-input").value.trim()) $("scan-form").requestSubmit();
    return;
  }
  if (left || arrived) {
    const typed = $("id-input").value.trim();
    clearPatient("finished");
    if (arrived && typed) $("scan-form").requestSubmit();
  }
}

// Scan events can arrive before the answer to POST /scans names the scan: the latest few are
// kept (ids and states only) and applied once it does.
const recentScanEvents = new Map();

function onEvent(kind, data) {
  if (kind === "reader") updateReader(data);
  else if (kind === "scan") {
    recentScanEvents.set(data.id, data);
    while (recentScanEvents.size > 20) recentScanEvents.delete(recentScanEvents.keys().next().value);
  }
  if (kind === "scan" && state.scan && data.id === state.scan.id && !isFinal(state.scan.state)) {
    if (isFinal(data.state)) followScan(data.id, 0);
    else showProgress(data);
  }
}

function onConnected(on) {
  state.connected = on;
  renderConnection();
}

function onReconnect() {
  if (state.scan && !isFinal(state.scan.state)) followScan(state.scan.id);
}

// -- scanning -------------------------------------------------------------------------------------------
function isFinal(s) { return s === "done" || s === "failed"; }

function accessFromInput(text) {
  const value = text.trim();
  if (!value) return { error: t("err_empty") };
  // A QR payload holds '|' between fields; keyboard-wedge scanners type it in whole.
  if (value.includes("|")) return { body: { qr: value } };
  const digits = value.replace(/[\s.-]/g, "");
  if (!/^\d{12}$/.test(digits)) return { error: t("err_length", { n: digits.replace(/\D/g, "").length }) };
  return { body: { id_number: digits } };
}

function sameAccess(a, b) {
  return Boolean(a && b) && a.id_number === b.id_number && a.qr === b.qr;
}

async function onScanSubmit(event) {
  event.preventDefault();
  clearTimeout(wedgeTimer);
  if (!state.acknowledged) { $("takeover-ack").focus(); return; }
  const reader = $("reader-select").value;
  if (!reader) {
    showError({ type: "local/no-reader", clerk_message: t("err_no_reader") });
    return;
  }
  const access = accessFromInput($("id-input").value);
  if (access.error) {
    clearPatient(null);
    showError({ type: "local/invalid-id", clerk_message: access.error });
    $("id-input").select();
    return;
  }
  // A double Enter is one read: the same number while its read is running is ignored.
  if (state.submitting) return;
  if (state.scan && !isFinal(state.scan.state) && sameAccess(state.scan.access, access.body)) return;
  if (state.armed && sameAccess(state.armed.body, access.body)) return;
  sessionStorage.setItem(READER_STORE, reader);
  // The previous patient's card is still on the reader and another number was typed: wait for
  // the card to change rather than read the wrong card ("Sai số CCCD" for the wrong reason).
  const card = readerNamed(reader);
  const last = state.lastDone;
  if (card && card.card_present === true && card.card_since && last && last.card === card.card_since
      && last.reader === reader && last.id && access.body.id_number && last.id !== access.body.id_number) {
    clearPatient(null);
    state.armed = { reader, body: access.body };
    setStatus("status_swap", {}, null, "waiting");
    return;
  }
  startScan(reader, access.body);
}

async function startScan(reader, body) {
  clearPatient(null);
  state.submitting = true;
  state.scan = { id: null, state: "sending", reader, access: body };
  setStatus("status_sending", {}, null, "waiting");
  $("scan-button").disabled = true;
  const seq = state.seq;
  try {
    const scan = await api("scans", { method: "POST", body: { reader, ...body } });
    if (state.seq !== seq) return;
    state.desk = scan.desk;
    showDesk();
    state.scan = { ...scan, access: body };
    state.filesSeen = [];
    const early = recentScanEvents.get(scan.id);
    showProgress(early && !isFinal(early.state) ? { ...scan, ...early } : scan);
    followScan(scan.id);
    loadHistory();
  } catch (err) {
    if (state.seq !== seq || err.status === 401) return;
    state.scan = null;
    setStatus("status_failed", {}, null, "failed");
    showError(err.problem || {});
    play("problem");
    $("id-input").select();
  } finally {
    state.submitting = false;
    $("scan-button").disabled = false;
  }
}

function showDesk() {
  if (!state.desk) return;
  const desk = $("desk-name");
  desk.hidden = false;
  desk.textContent = state.desk;
}

// Long-poll the scan until it ends: the result comes from here even if the event stream is down.
async function followScan(id, wait = 20) {
  for (let attempt = 0; attempt < 40; attempt++) {
    if (!state.scan || state.scan.id !== id || isFinal(state.scan.state)) return;
    let scan;
    try {
      scan = await api(`scans/${encodeURIComponent(id)}?wait=${wait}`);
    } catch (err) {
      if (err.status === 401) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (!state.scan || state.scan.id !== id || isFinal(state.scan.state)) return;
    if (isFinal(scan.state)) {
      finishScan(scan);
      return;
    }
    showProgress(scan);
    wait = 20;
  }
}

function showProgress(scan) {
  state.scan = { ...state.scan, ...scan };
  const p = scan.progress || {};
  if (p.file && !state.filesSeen.includes(p.file)) state.filesSeen.push(p.file);
  // Waiting for the card comes first: a queued scan with no card says "put the card on".
  if (scan.waiting_for_card) {
    setStatus("status_waiting", {}, null, "waiting");
  } else if (scan.state === "paused") {
    const left = scan.resume_deadline ? Math.max(0, Math.round((Date.parse(scan.resume_deadline) - Date.now()) / 1000)) : null;
    setStatus(left && left < 600 ? "status_paused_left" : "status_paused", { n: left }, null, "paused");
  } else if (scan.state === "queued") {
    const n = scan.queue_position;
    setStatus(n ? "status_queued_n" : "status_queued", { n }, null, "waiting");
  } else if (scan.state === "reading") {
    rememberCard();
    setStatus(FILE_PART[p.file] || "status_reading", {}, progressPercent(p), "reading");
  } else if (scan.state === "verifying") {
    rememberCard();
    setStatus("status_verifying", {}, 100, "reading");
  }
}

function rememberCard() {
  const reader = state.scan && readerNamed(state.scan.reader);
  if (reader && reader.card_present) state.scanCard = reader.card_since || null;
}

function progressPercent(p) {
  // The service does not know the total before the read; estimate it from the usual files.
  const expected = ["COM", "CardAccess", "SOD", "DG1", "DG2", "DG13", "DG14", "DG15"];
  const weight = (name) => FILE_WEIGHT[name] || 1;
  const all = new Set([...expected, ...state.filesSeen]);
  let total = 0;
  for (const name of all) total += weight(name);
  let done = 0;
  for (const name of state.filesSeen) {
    if (name === p.file) done += p.file_total ? weight(name) * Math.min(1, p.file_bytes / p.file_total) : 0;
    else done += weight(name);
  }
  return Math.max(3, Math.min(97, Math.round((100 * done) / total)));
}

function finishScan(scan) {
  const access = state.scan && state.scan.access;
  state.scan = { ...scan, access };
  if (!state.scanCard) rememberCard();
  loadHistory();
  if (scan.state === "failed") {
    setStatus("status_failed", {}, null, "failed");
    const problem = scan.problem || {};
    // Wrong number while the previous patient's card lies on the reader: say so.
    const reader = readerNamed(scan.reader);
    if (slugOf(problem) === "wrong-access-key" && state.lastDone && reader && reader.card_since
        && state.lastDone.card === reader.card_since) {
      showError({ ...problem, clerk_message: t("err_previous_card"), type: problem.type }, true);
    } else {
      showError(problem, true);
    }
    play("problem");
    $("id-input").select();
    armIdle();
    return;
  }
  const r = scan.result || {};
  const acceptance = acceptanceOf(r);
  state.lastDone = { card: state.scanCard, reader: scan.reader, id: (r.identity || r.unverified_identity || {}).id_number };
  if (acceptance.state === "not_genuine") {
    state.acknowledged = false;
    setStatus("status_alert", {}, null, "alert");
    renderResult(state.scan);
    $("id-input").value = "";
    $("takeover-ack").focus();
    play("forged");
    return;
  }
  setStatus(acceptance.state === "genuine" ? "status_done" : "status_done_check", {}, null,
    acceptance.state === "genuine" ? "done" : "check");
  renderResult(state.scan);
  play(acceptance.state === "genuine" ? "done" : "problem");
  if (r.identity) {
    $("id-input").value = "";
    loadPhoto(r.photo_url);
    checkForPatient();
  } else {
    $("id-input").select();
  }
  armIdle();
}

async function loadPhoto(url) {
  const img = $("r-photo");
  $("r-photo-none").hidden = true;
  if (!url) {
    $("r-photo-none").hidden = false;
    return;
  }
  const seq = state.seq;
  try {
    const response = await api(url, { raw: true });
    const blob = await response.blob();
    if (state.seq !== seq) return;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = URL.createObjectURL(blob);
    img.src = state.photoUrl;
  } catch {
    if (state.seq === seq) $("r-photo-none").hidden = false;
  }
}

// -- one patient at a time ------------------------------------------------------------------------
// Everything about the shown patient leaves the screen and the page's memory.
function clearPatient(next) {
  state.seq += 1;
  clearTimeout(state.idleTimer);
  state.idleTimer = null;
  state.scan = null;
  state.scanCard = null;
  state.insurance = null;
  state.insuranceCheck = null;
  state.typed = null;
  state.armed = null;
  state.acknowledged = true;
  state.filesSeen = [];
  clearResultView();
  for (const id of ["correct-name", "correct-dob"]) $(id).value = "";
  $("scan-form").classList.remove("blocked");
  if (next) {
    showPlaceholder(next);
    setStatus(next === "finished" ? "status_finished" : "status_idle", {}, null, next === "finished" ? "finished" : "idle");
  } else {
    showPlaceholder("placeholder");
  }
}

function armIdle() {
  clearTimeout(state.idleTimer);
  const seconds = Number(state.config.idle_seconds) || 120;
  state.idleTimer = setTimeout(() => {
    if (state.acknowledged && state.scan && isFinal(state.scan.state)) clearPatient("finished");
  }, seconds * 1000);
}

// Any key or click while a result is shown means the clerk is still working with it.
function onActivity() {
  if (state.idleTimer) armIdle();
}

function nextPatient() {
  if (!state.acknowledged) return;
  clearPatient("finished");
  const input = $("id-input");
  input.value = "";
  input.focus();
}

function acknowledge() {
  state.acknowledged = true;
  $("takeover-ack").hidden = true;
  clearPatient("finished");
  $("id-input").focus();
}

// -- copy for HIS (waits for the insurance answer, or says it is missing) ----------------------------------
function ymd(dmyOrIso) {
  if (!dmyOrIso) return "";
  let m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(dmyOrIso);
  if (m) return `${m[3]}${m[2]}${m[1]}`;
  m = /^(\d{4})-(\d{2})-(\d{2})/.exec(dmyOrIso);
  return m ? `${m[1]}${m[2]}${m[3]}` : "";
}

function identityLines(id) {
  return [
    [t("f_full_name"), id.full_name],
    [t("f_id_number"), id.id_number],
    [t("f_date_of_birth"), isoToDmy(id.date_of_birth)],
    [t("f_sex"), id.sex ? t(`sex_${id.sex}`) : ""],
    [t("f_ethnicity"), id.ethnicity],
    [t("f_nationality"), id.nationality],
    [t("f_place_of_residence"), id.place_of_residence],
    [t("f_date_of_expiry"), id.no_expiry ? t("no_expiry") : isoToDmy(id.date_of_expiry)],
  ];
}

function insuranceLines(card) {
  return [
    [t("f_card_code"), card.card_code],
    [t("ins_valid"), card.valid_from || card.valid_to ? `${card.valid_from || ""} – ${card.valid_to || ""}` : ""],
    [t("ins_clinic"), card.registered_clinic],
  ];
}

function missingWhy() {
  if (!state.insurance) return t("no_ins_unknown");
  return state.insurance.usable_for_checkin ? "" : t(state.insurance.status && !["unavailable", "retry", "abandoned",
    "not_configured", "auth_error", "config_error", "unknown_code"].includes(state.insurance.status)
    ? "no_ins_not_usable" : "no_ins_unknown");
}

function plainText(card) {
  const id = ((state.scan || {}).result || {}).identity || {};
  const lines = identityLines(id);
  if (card) lines.push(...insuranceLines(card));
  else lines.push([t("f_card_code"), `— (${missingWhy()})`]);
  return lines.filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`).join("\n");
}

// Field names of the HIS data exchange (Bộ Y tế QĐ 130/QĐ 4750, XML1): one KEY=value a line.
function hisText(card) {
  const r = (state.scan || {}).result || {};
  const fields = { ...(r.his || (r.identity || {}).his || {}) };
  if (card) {
    if (card.card_code) fields.MA_THE_BHYT = card.card_code;
    if (card.registered_clinic) fields.MA_DKBD = card.registered_clinic;
    if (card.valid_from) fields.GT_THE_TU = ymd(card.valid_from);
    if (card.valid_to) fields.GT_THE_DEN = ymd(card.valid_to);
  }
  return Object.entries(fields).filter(([, v]) => v !== null && v !== "").map(([k, v]) => `${k}=${v}`).join("\n");
}

async function copy(kind) {
  const r = (state.scan || {}).result || {};
  if (!r.identity) return;
  const status = $("copy-status");
  const seq = state.seq;
  if (state.insuranceCheck && state.insuranceCheck.promise) {
    status.textContent = t("copy_waiting");
    status.className = "hint";
    await state.insuranceCheck.promise;
    if (state.seq !== seq) return;
  }
  const card = checkinCard(state.insurance);
  const text = kind === "his" ? hisText(card) : plainText(card);
  try {
    await writeClipboard(text);
    status.textContent = card ? t("copied") : t("copied_no_ins", { why: missingWhy() });
    status.className = card ? "hint" : "hint warn-text";
    status.dataset.insurance = card ? "yes" : "no";
  } catch {
    status.textContent = t("copy_failed");
  }
}

async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = el("textarea", { "aria-hidden": "true" });
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy refused");
}

// -- the check-in slip -------------------------------------------------------------------------------------
function printSlip() {
  const r = (state.scan || {}).result || {};
  const id = r.identity;
  if (!id || !state.acknowledged) {
    $("copy-status").textContent = t("nothing_to_print");
    return;
  }
  const card = checkinCard(state.insurance);
  const rows = [
    [t("slip_time"), new Date().toLocaleString(state.lang === "en" ? "en-GB" : "vi-VN")],
    [t("slip_desk"), state.desk || ""],
    ...identityLines(id),
  ];
  if (card) {
    rows.push(...insuranceLines(card));
    if (!$("ins-right-line").hidden) rows.push([t("ins_short"), t("ins_right_line")]);
  } else {
    rows.push([t("f_card_code"), `— (${missingWhy()})`]);
  }
  fillSlip(rows);
  window.print();
}

// -- shortcut keys ------------------------------------------------------------------------------------------
function onShortcut(event) {
  const key = event.key;
  if (key === "F2") {
    event.preventDefault();
    const input = $("id-input");
    input.focus();
    if (input.value.trim()) $("scan-form").requestSubmit();
  } else if (key === "F4") {
    event.preventDefault();
    if (!$("insurance").hidden && !$("ins-again").disabled) $("ins-again").click();
  } else if (key === "F8") {
    event.preventDefault();
    if (!$("result").hidden) copy("his");
  } else if (key === "F9") {
    event.preventDefault();
    nextPatient();
  } else if ((event.ctrlKey || event.metaKey) && (key === "p" || key === "P")) {
    event.preventDefault();
    printSlip();
  }
}

// -- today's scans ------------------------------------------------------------------------------------------
async function loadHistory() {
  try {
    const body = await api("scans");
    state.history = body.scans || [];
  } catch {
    return;
  }
  renderHistory(openScan);
}

async function openScan(id) {
  if (!state.acknowledged) return;
  try {
    const scan = await api(`scans/${encodeURIComponent(id)}`);
    clearPatient(null);
    state.scan = scan;
    if (isFinal(scan.state)) finishScan(scan);
    else { showProgress(scan); followScan(scan.id); }
  } catch (err) {
    if (err.status !== 401) showError(err.problem || {});
  }
}

// -- typed insurance check ------------------------------------------------------------------------------------
function onTypedSubmit(event) {
  event.preventDefault();
  const code = normaliseCode($("typed-code").value);
  const name = $("typed-name").value.trim();
  const dob = parseDob($("typed-dob").value);
  const error = $("typed-error");
  const wrong = !code ? "typed_bad_code" : !name ? "typed_bad_name" : !dob ? "typed_bad_dob" : null;
  if (wrong) {
    error.hidden = false;
    error.textContent = t(wrong);
    return;
  }
  error.hidden = true;
  clearPatient(null);
  $("placeholder").hidden = true;
  checkTyped({ card_code: code, full_name: name, date_of_birth: dob });
  armIdle();
}

// -- demo panel (simulated mode) --------------------------------------------------------------------------------
async function loadDemo() {
  try {
    state.demo = await api("/desk/demo/cards");
  } catch {
    state.demo = null;
  }
  renderDemo();
}

function renderDemo() {
  if (!state.demo) return;
  const cards = $("demo-card");
  const faults = $("demo-fault");
  const chosenCard = cards.value;
  const chosenFault = faults.value;
  cards.replaceChildren(...state.demo.cards.map((c) =>
    el("option", { value: c.id_number, text: `${c.full_name} · ${c.id_number} · ${c.note[state.lang] || c.note.vi}` })));
  faults.replaceChildren(...state.demo.faults.map((f) => el("option", { value: f.value, text: f.label[state.lang] || f.label.vi })));
  if (chosenCard) cards.value = chosenCard;
  if (chosenFault) faults.value = chosenFault;
}

async function demoCard(insert) {
  const reader = $("reader-select").value;
  const status = $("demo-status");
  if (!reader) return;
  const path = `demo/readers/${encodeURIComponent(reader)}/card`;
  try {
    let answer;
    if (insert) {
      const body = { id_number: $("demo-card").value };
      if ($("demo-fault").value) body.fault = $("demo-fault").value;
      answer = await api(path, { method: "PUT", body });
      status.textContent = t("demo_inserted", { reader });
    } else {
      answer = await api(path, { method: "DELETE" });
      status.textContent = t(answer.removed ? "demo_removed" : "demo_empty", { reader });
    }
    updateReader(answer);
  } catch (err) {
    if (err.status !== 401 && !missingRoute(err)) status.textContent = problemText(err.problem || {});
  }
}

// -- start ----------------------------------------------------------------------------------------------------
// Keyboard-wedge QR scanners that send no Enter: read once the burst of keys stops.
let wedgeTimer = null;
function onIdInput() {
  clearTimeout(wedgeTimer);
  const value = $("id-input").value;
  if ((value.match(/\|/g) || []).length >= 5) wedgeTimer = setTimeout(() => $("scan-form").requestSubmit(), 600);
}

function init() {
  $("noscript").hidden = true;
  state.lang = sessionStorage.getItem(LANG_STORE) === "en" ? "en" : "vi";
  loadPrefs();
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("scan-form").addEventListener("submit", onScanSubmit);
  $("id-input").addEventListener("input", onIdInput);
  $("id-input").addEventListener("keydown", (event) => { if (event.key === "Escape") event.target.value = ""; });
  $("reader-select").addEventListener("change", (e) => sessionStorage.setItem(READER_STORE, e.target.value));
  $("officer-select").addEventListener("change", (e) => chooseOfficer(e.target.value));
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "vi" ? "en" : "vi";
    sessionStorage.setItem(LANG_STORE, state.lang);
    applyLanguage();
  });
  $("sound").addEventListener("click", () => { state.prefs.muted = !state.prefs.muted; savePrefs(); });
  $("large").addEventListener("click", () => { state.prefs.large = !state.prefs.large; savePrefs(); });
  $("logout").addEventListener("click", () => logout(""));
  $("history-refresh").addEventListener("click", loadHistory);
  $("copy-text").addEventListener("click", () => copy("text"));
  $("copy-his").addEventListener("click", () => copy("his"));
  $("print").addEventListener("click", printSlip);
  $("next-patient").addEventListener("click", nextPatient);
  $("takeover-ack").addEventListener("click", acknowledge);
  $("ins-again").addEventListener("click", () => {
    if (state.typed) checkTyped(state.typed);
    else checkForPatient({ refresh: true });
  });
  $("ins-abandon").addEventListener("click", abandon);
  $("correct-form").addEventListener("submit", (event) => { event.preventDefault(); correctedCheck(); });
  $("typed-form").addEventListener("submit", onTypedSubmit);
  $("error-retry").addEventListener("click", () => $("scan-form").requestSubmit());
  $("demo-insert").addEventListener("click", () => demoCard(true));
  $("demo-remove").addEventListener("click", () => demoCard(false));
  document.addEventListener("keydown", onShortcut);
  document.addEventListener("keydown", onActivity, true);
  document.addEventListener("pointerdown", onActivity, true);
  applyLanguage();
  // /healthz needs no key: it tells the log-in screen whether this is the demo service.
  fetch("/healthz", { cache: "no-store" }).then((r) => r.json())
    .then((h) => { state.health = h; $("login-demo").hidden = !h.simulated; }).catch(() => {});
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) login(saved).catch(() => logout(""));
  else logout("");
}

init();
