// The page's memory (never storage: personal data lives here and in the DOM only, and is
// dropped with the patient) and the small helpers every module uses.
import { PROBLEMS, T, translate } from "./texts.js";

export const KEY_STORE = "cccd.desk.key";
export const LANG_STORE = "cccd.desk.lang";
export const READER_STORE = "cccd.desk.reader";
export const OFFICER_STORE = "cccd.desk.officer";
// Preferences of this PC (no personal data): large text, sound.
export const PREFS_STORE = "cccd.desk.prefs";

export const state = {
  key: null,
  lang: "vi",
  desk: null,
  account: null,           // GET /whoami: name, role, readers, retention_hours
  config: { idle_seconds: 120, hospital_code: null, clinic_list: { loaded: false, clinics: 0 } },
  health: null,
  readers: [],
  simulated: false,
  demo: null,
  officers: null,          // null: this service has no officer list (older insurance API)
  officer: "",
  insuranceApi: "legacy",  // "checks" when POST /insurance/checks exists
  scan: null,              // the scan this desk is watching
  scanCard: null,          // card_since of the card that scan read (simulated readers)
  filesSeen: [],
  submitting: false,
  armed: null,             // a read waiting for the previous patient's card to leave
  acknowledged: true,      // a not-genuine card waits for the clerk's acknowledgement
  photoUrl: null,
  insurance: null,         // the answer shown
  insuranceCheck: null,    // the running check {id, started, promise}
  history: [],
  status: { key: "status_idle", args: {}, percent: null, mode: "idle" },
  errorProblem: null,
  eventsAbort: null,
  connected: null,
  idleTimer: null,
  clinics: new Map(),
  prefs: { large: false, muted: false },
};

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function t(key, args = {}) {
  return translate(state.lang, key, args);
}

// Card generation: the 2024 identity card (Luật Căn cước, from 1 July 2024) prints other
// labels than the 2021 CCCD.
export function generationOf(identity) {
  if (!identity) return "cccd";
  if (identity.card_kind) return identity.card_kind.startsWith("can_cuoc") ? "2024" : "cccd";
  return identity.date_of_issue && identity.date_of_issue >= "2024-07-01" ? "2024" : "cccd";
}

export function fieldLabel(name, generation = "cccd") {
  if (generation === "2024" && T.vi[`g24_${name}`]) return t(`g24_${name}`);
  if (T.vi[`f_${name}`]) return t(`f_${name}`);
  return name;
}

export function isoToDmy(iso) {
  if (!iso) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

export function timeOf(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(state.lang === "en" ? "en-GB" : "vi-VN", { hour: "2-digit", minute: "2-digit" });
}

export function slugOf(problem) {
  const type = (problem && problem.type) || "";
  return type.slice(type.lastIndexOf("/") + 1);
}

// The clerk's text for a problem: never the service's English title in Vietnamese mode.
export function problemText(problem) {
  const slug = slugOf(problem);
  if (state.lang === "en") return PROBLEMS.en[slug] || problem.title || t("err_generic");
  return problem.clerk_message || PROBLEMS.vi[slug] || t("err_generic");
}

export function knownProblem(problem) {
  return Boolean(problem.clerk_message || PROBLEMS.vi[slugOf(problem)]);
}
