// The BHYT panel: the check for the patient whose chip was read, a check by typed card code
// (children, paper or electronic cards), "check again" with a corrected name or date of birth,
// the registered clinic's name, "đúng tuyến", benefit level and last visit. Works with the
// insurance-check API (POST /insurance/checks, watched and abandonable) and, on an older
// service, with GET /citizens/{id}/insurance alone.
import { api, ApiError, missingRoute } from "./api.js";
import { $, el, fieldLabel, isoToDmy, OFFICER_STORE, problemText, state, t, timeOf } from "./state.js";
import { BENEFIT, INS_STATUS_NEW, INS_UNKNOWN } from "./texts.js";

let elapsedTimer = null;

// -- officers -----------------------------------------------------------------------------------
export async function loadOfficers() {
  try {
    const body = await api("officers");
    state.officers = body.officers || [];
    state.insuranceApi = "checks";
    const saved = sessionStorage.getItem(OFFICER_STORE);
    const ids = state.officers.map((o) => o.id);
    state.officer = saved && ids.includes(saved) ? saved : (body.desk_default || "");
  } catch (err) {
    state.officers = null;
    state.insuranceApi = missingRoute(err) ? "legacy" : state.insuranceApi;
  }
  renderOfficers();
}

export function renderOfficers() {
  const box = $("officer-box");
  const select = $("officer-select");
  box.hidden = !state.officers || state.officers.length === 0;
  if (box.hidden) return;
  select.replaceChildren(el("option", { value: "", text: t("officer_choose") }),
    ...state.officers.map((o) => el("option", { value: o.id, text: o.name })));
  select.value = state.officer || "";
  box.classList.toggle("missing", !state.officer);
}

export function chooseOfficer(id) {
  state.officer = id;
  if (id) sessionStorage.setItem(OFFICER_STORE, id);
  else sessionStorage.removeItem(OFFICER_STORE);
  renderOfficers();
}

function officerPart() {
  return state.officer ? { officer_id: state.officer } : {};
}

// -- running a check -----------------------------------------------------------------------------------
function showChecking() {
  const seq = state.seq;
  $("insurance").hidden = false;
  setPill("checking", t("ins_checking"), "checking");
  $("ins-line").textContent = "";
  $("ins-message").textContent = t("ins_checking");
  $("ins-fields").replaceChildren();
  $("ins-meta").textContent = "";
  $("ins-correct").hidden = true;
  $("ins-last-good").hidden = true;
  $("ins-right-line").hidden = true;
  $("ins-again").disabled = true;
  const started = Date.now();
  clearInterval(elapsedTimer);
  elapsedTimer = setInterval(() => {
    if (state.seq !== seq || !state.insuranceCheck) { clearInterval(elapsedTimer); return; }
    $("ins-elapsed").textContent = t("ins_checking_s", { n: Math.round((Date.now() - started) / 1000) });
  }, 1000);
}

function endChecking() {
  clearInterval(elapsedTimer);
  $("ins-elapsed").textContent = "";
  $("ins-abandon").hidden = true;
  $("ins-again").disabled = false;
}

// The check for the patient on screen (their chip was read): returns when it is answered.
export function checkForPatient({ refresh = false } = {}) {
  const identity = ((state.scan || {}).result || {}).identity;
  if (!identity || !identity.id_number) return Promise.resolve(null);
  if (state.insuranceApi === "checks") {
    return run({ id_number: identity.id_number, ...(refresh ? { refresh: true } : {}), ...officerPart() });
  }
  return runLegacy(identity.id_number, refresh);
}

export function checkTyped(fields) {
  if (state.insuranceApi !== "checks") {
    $("insurance").hidden = false;
    $("ins-message").textContent = t("ins_not_supported");
    return Promise.resolve(null);
  }
  state.typed = fields;
  return run({ ...fields, ...officerPart() });
}

function run(body) {
  const seq = state.seq;
  const job = { id: null, seq };
  state.insuranceCheck = job;
  showChecking();
  job.promise = (async () => {
    let check;
    try {
      check = await api("insurance/checks", { method: "POST", body });
      job.id = check.id;
      $("ins-abandon").hidden = check.state !== "running";
      while (check.state === "running") {
        if (state.seq !== seq || state.insuranceCheck !== job) return null;
        check = await api(`insurance/checks/${encodeURIComponent(check.id)}?wait=30`);
      }
    } catch (err) {
      if (state.seq !== seq || state.insuranceCheck !== job) return null;
      state.insuranceCheck = null;
      endChecking();
      if (err instanceof ApiError && err.status === 401) return null;
      showFailure(err);
      return null;
    }
    if (state.seq !== seq || state.insuranceCheck !== job) return null;
    state.insuranceCheck = null;
    endChecking();
    if (check.state === "abandoned") {
      state.insurance = { status: "abandoned", usable_for_checkin: false, message_vi: t("ins_abandoned"), meaning: t("ins_abandoned") };
      renderInsurance(state.insurance);
      return state.insurance;
    }
    state.insurance = { ...(check.result || {}), cached: Boolean(check.cached), kind: check.kind,
      last_good: check.last_good || null };
    renderInsurance(state.insurance);
    return state.insurance;
  })();
  return job.promise;
}

function runLegacy(idNumber, refresh) {
  const seq = state.seq;
  const job = { id: null, seq };
  state.insuranceCheck = job;
  showChecking();
  const query = new URLSearchParams();
  if (refresh) query.set("refresh", "true");
  if (state.officer) query.set("officer_id", state.officer);
  const qs = query.toString();
  job.promise = (async () => {
    try {
      const answer = await api(`citizens/${encodeURIComponent(idNumber)}/insurance${qs ? `?${qs}` : ""}`);
      if (state.seq !== seq || state.insuranceCheck !== job) return null;
      state.insuranceCheck = null;
      endChecking();
      state.insurance = answer;
      renderInsurance(answer);
      return answer;
    } catch (err) {
      if (state.seq !== seq || state.insuranceCheck !== job) return null;
      state.insuranceCheck = null;
      endChecking();
      if (!(err instanceof ApiError && err.status === 401)) showFailure(err);
      return null;
    }
  })();
  return job.promise;
}

export async function abandon() {
  const job = state.insuranceCheck;
  if (!job || !job.id) return;
  try {
    await api(`insurance/checks/${encodeURIComponent(job.id)}`, { method: "DELETE" });
  } catch {
    // the long-poll answers with the check's state either way
  }
}

function showFailure(err) {
  state.insurance = null;
  setPill("warn", t("ins_unknown"), "error");
  const problem = (err && err.problem) || {};
  $("ins-message").textContent = `${t("ins_error")}: ${problemText(problem)}`;
}

// -- showing an answer -------------------------------------------------------------------------------
// The pill by the patient's name and the one heading the insurance panel say the same.
function setPill(cls, text, status) {
  for (const id of ["ins-pill", "ins-head-pill"]) {
    const pill = $(id);
    pill.className = `pill ${cls}`;
    pill.textContent = text;
    pill.dataset.status = status;
  }
}

export function pillOf(ins) {
  if (ins.usable_for_checkin) {
    return ["ok", ins.status === "use_new_card" ? t("ins_st_use_new_card") : t("ins_usable")];
  }
  if (INS_UNKNOWN.has(ins.status)) return ["warn", ins.status === "abandoned" ? t("ins_st_abandoned") : t("ins_unknown")];
  return ["bad", t("ins_not_usable")];
}

// The card the visit is registered with: the service's checkin_card, else the new card for a
// "use the new card" answer, else the held card; none when not usable.
export function checkinCard(ins) {
  if (!ins || !ins.usable_for_checkin) return null;
  if (ins.checkin_card) return ins.checkin_card;
  if (INS_STATUS_NEW.has(ins.status) && ins.status === "use_new_card" && ins.new_card) return { ...ins.card, ...ins.new_card };
  return ins.card || null;
}

function messageOf(ins) {
  if (state.lang === "en") return ins.meaning ? ins.meaning[0].toUpperCase() + ins.meaning.slice(1) : "";
  return ins.message_vi || "";
}

export function benefitOf(cardCode) {
  const m = /^[A-Z]{2}([1-5])/.exec(cardCode || "");
  return m ? t("ins_benefit_n", { n: m[1], pct: BENEFIT[m[1]] }) : "";
}

async function clinicName(code) {
  if (!code || !(state.config.clinic_list || {}).loaded) return null;
  if (state.clinics.has(code)) return state.clinics.get(code);
  try {
    const clinic = await api(`clinics/${encodeURIComponent(code)}`);
    state.clinics.set(code, clinic.name);
  } catch {
    state.clinics.set(code, null);
  }
  return state.clinics.get(code);
}

function clinicText(code) {
  if (!code) return "";
  const name = state.clinics.get(code);
  return name ? `${code} · ${name}` : code;
}

export function renderInsurance(ins) {
  const seq = state.seq;
  $("insurance").hidden = false;
  const [cls, text] = pillOf(ins);
  setPill(cls, text, ins.status);
  $("ins-message").textContent = messageOf(ins);
  const card = ins.card || {};
  const use = checkinCard(ins) || card;
  $("ins-line").textContent = use.card_code || "";
  const home = state.config.hospital_code;
  const registered = use.registered_clinic || card.registered_clinic;
  $("ins-right-line").hidden = !(ins.usable_for_checkin && home && registered === home);

  const dl = $("ins-fields");
  dl.replaceChildren();
  const row = (key, value, opts = {}) => {
    if (!value) return;
    dl.append(el("div", opts.wide ? { class: "wide" } : {}, el("dt", { text: t(key) }),
      el("dd", { text: value, class: opts.mono ? "mono code" : undefined, "data-field": opts.name })));
  };
  row("ins_card_code", card.card_code, { mono: true, name: "card_code" });
  if (card.valid_from || card.valid_to) row("ins_valid", `${card.valid_from || "…"} – ${card.valid_to || "…"}`);
  row("ins_clinic", clinicText(card.registered_clinic), { name: "clinic" });
  row("ins_benefit", benefitOf(use.card_code || card.card_code), { name: "benefit" });
  row("ins_area", card.area_code, { name: "area" });
  row("ins_five_years", card.five_years_from);
  const nc = ins.new_card;
  if (nc) {
    row("ins_new_card", nc.card_code, { mono: true });
    if (nc.valid_from || nc.valid_to) row("ins_new_valid", `${nc.valid_from || "…"} – ${nc.valid_to || "…"}`);
    row("ins_new_clinic", nc.registered_clinic_name ? `${nc.registered_clinic} · ${nc.registered_clinic_name}` : clinicText(nc.registered_clinic));
  }
  const visit = lastVisit(ins);
  if (visit) {
    row("ins_last_visit", t("ins_last_visit_at", { date: visit.date, where: clinicText(visit.facility) }), { name: "last_visit" });
  }
  if (ins.differences && ins.differences.length) {
    row("ins_differences", ins.differences.map((d) =>
      `${fieldLabel(d.field)} (${t(d.kind === "diacritics" ? "ins_diff_diacritics" : "ins_diff_different")})`)
      .join(", "), { wide: true });
  }
  if (state.lang === "vi" || ins.gateway_note) row("ins_gateway", ins.gateway_note, { wide: true });
  renderCorrection(ins);
  renderLastGood(ins);
  $("ins-meta").textContent = ins.checked_at
    ? t("ins_meta", { time: timeOf(ins.checked_at), cached: ins.cached ? t("ins_cached") : "" }) : "";
  // Clinic names come from the clinic list: filled in when they arrive.
  const codes = [card.registered_clinic, nc && nc.registered_clinic, visit && visit.facility].filter(Boolean);
  const missing = codes.filter((c) => !state.clinics.has(c));
  if (missing.length && (state.config.clinic_list || {}).loaded) {
    Promise.all(missing.map(clinicName)).then(() => {
      if (state.seq === seq && state.insurance === ins) renderInsurance(ins);
    });
  }
}

function lastVisit(ins) {
  const visits = (ins.history || []).filter((v) => v && v.admitted);
  if (!visits.length) return null;
  visits.sort((a, b) => String(b.admitted).localeCompare(String(a.admitted)));
  const v = visits[0];
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(String(v.admitted));
  return { date: m ? `${m[3]}/${m[2]}/${m[1]}` : String(v.admitted), facility: v.facility };
}

function renderCorrection(ins) {
  const box = $("ins-correct");
  const card = ins.card || {};
  const differs = (ins.differences || []).filter((d) => d.field === "full_name" || d.field === "date_of_birth");
  const nameOrDob = ["060", "061", "070"].includes(ins.code);
  if (!differs.length && !nameOrDob) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const holds = [];
  if (card.full_name) holds.push(`${t("f_full_name").toLowerCase()} ${card.full_name}`);
  if (card.date_of_birth) holds.push(`${t("f_date_of_birth").toLowerCase()} ${card.date_of_birth}`);
  $("ins-holds").textContent = holds.length ? t("ins_holds", { what: holds.join(", ") }) : "";
  const supported = state.insuranceApi === "checks";
  $("correct-form").hidden = !supported;
  $("correct-error").hidden = supported;
  if (!supported) {
    $("correct-error").textContent = t("ins_not_supported");
    return;
  }
  const identity = ((state.scan || {}).result || {}).identity || {};
  const typed = state.typed || {};
  if (!$("correct-name").value) $("correct-name").value = card.full_name || identity.full_name || typed.full_name || "";
  if (!$("correct-dob").value) {
    $("correct-dob").value = card.date_of_birth || isoToDmy(identity.date_of_birth) || typed.date_of_birth || "";
  }
}

function renderLastGood(ins) {
  const box = $("ins-last-good");
  const last = ins.last_good;
  if (!last || !last.status) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const [cls, text] = pillOf(last);
  box.replaceChildren(el("p", { text: t("ins_last_good", { time: timeOf(last.checked_at) }) }),
    el("p", {}, el("span", { class: `pill ${cls}`, text }), " ", messageOf(last)));
}

// -- what "check again with a corrected name/date of birth" sends ----------------------------------------
export function parseDob(text) {
  const value = (text || "").trim();
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(value);
  if (m) return `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}`;
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m) return value;
  m = /^(\d{4})$/.exec(value);
  return m ? value : null;
}

export function normaliseCode(text) {
  const code = (text || "").replace(/\s+/g, "").toUpperCase();
  return /^([A-Z]{2}[1-5]\d{12}|\d{10}|\d{12})$/.test(code) ? code : null;
}

export function correctedCheck() {
  const ins = state.insurance || {};
  const card = ins.card || {};
  const identity = ((state.scan || {}).result || {}).identity || {};
  const fullName = $("correct-name").value.trim();
  const dob = parseDob($("correct-dob").value);
  const error = $("correct-error");
  if (!fullName || !dob) {
    error.hidden = false;
    error.textContent = t(!fullName ? "typed_bad_name" : "typed_bad_dob");
    return null;
  }
  error.hidden = true;
  const code = card.card_code || (state.typed || {}).card_code || identity.id_number;
  return checkTyped({ card_code: code, full_name: fullName, date_of_birth: dob });
}
