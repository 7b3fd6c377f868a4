// Rendering: the status line, the three verdict states, the identity, the not-genuine
// takeover, errors, the day's list, readers, the status bar and the print slip. No I/O here.
import { $, el, fieldLabel, generationOf, isoToDmy, knownProblem, problemText, slugOf, state, t, timeOf } from "./state.js";

// -- status ------------------------------------------------------------------------------------
export function setStatus(key, args = {}, percent = null, mode = null) {
  state.status = { key, args, percent, mode: mode || (key === "status_idle" ? "idle" : "reading") };
  renderStatus();
}

export function renderStatus() {
  const { key, args, percent, mode } = state.status;
  const text = $("status-text");
  text.textContent = t(key, args);
  text.dataset.state = mode;
  const bar = $("progress");
  if (percent === null || percent === undefined) {
    bar.hidden = true;
  } else {
    bar.hidden = false;
    bar.value = percent;
    bar.setAttribute("aria-valuetext", `${percent}%`);
  }
}

// -- verdicts ------------------------------------------------------------------------------------
// The service's acceptance when it sends one; else derived from the older fields, so the page
// tells the three outcomes apart with either service.
export function acceptanceOf(r) {
  if (r.acceptance) return { state: r.acceptance, reason: r.acceptance_reason || null };
  const report = r.report || {};
  const clone = report.clone_check || {};
  if (clone.outcome === "failed") return { state: "not_genuine", reason: "clone" };
  if (r.verdict === "invalid") return { state: "not_genuine", reason: "forged" };
  if (r.verdict === "verified" && r.genuine) return { state: "genuine", reason: null };
  if (r.verdict === "signer_not_trusted") {
    return { state: "issuer_not_checked",
      reason: report.trust_store === "not_configured" ? "no_trust_store" : "signer_not_in_store" };
  }
  if (r.verdict === "chain_invalid") return { state: "not_genuine", reason: "signer_revoked" };
  if (r.verdict === "malformed" || r.verdict === "unsupported") return { state: "not_genuine", reason: "unverifiable" };
  return { state: "not_genuine", reason: "unknown" };
}

const NOT_GENUINE_TEXT = {
  forged: "v_forged", clone: "v_clone", signer_revoked: "v_revoked", chain_invalid: "v_revoked",
  revoked: "v_revoked", unverifiable: "v_unverifiable", malformed: "v_unverifiable",
  unsupported: "v_unverifiable", issuing_state_mismatch: "v_state_mismatch",
};
const ISSUER_TEXT = {
  no_trust_store: "v_issuer_no_store", signer_not_in_store: "v_issuer_not_in_store",
  issuing_state_mismatch: "v_issuer_state",
};

export function technical(lines) {
  return lines.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n");
}

function resultTech(r, acceptance) {
  const report = r.report || {};
  const timings = r.timings || {};
  const pa = report.passive_authentication || {};
  return technical([
    ["acceptance", acceptance.state], ["acceptance_reason", acceptance.reason], ["verdict", r.verdict],
    ["reason", r.reason], ["trust_store", report.trust_store], ["access_protocol", report.access_protocol],
    ["passive_authentication", pa.status], ["clone_check", (report.clone_check || {}).outcome],
    ["read_seconds", timings.read_seconds], ["verify_seconds", timings.verify_seconds], ["apdus", timings.apdus],
    ["repairs", ((r.identity || r.unverified_identity || {}).repairs || []).map((x) => `${x.field}:${x.source_encoding}`).join(", ")],
  ]);
}

// -- clearing ------------------------------------------------------------------------------------
export function clearResultView() {
  state.errorProblem = null;
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photoUrl = null;
  $("r-photo").removeAttribute("src");
  for (const id of ["error", "takeover", "verdict", "result", "insurance"]) $(id).hidden = true;
  for (const id of ["r-name", "r-id", "r-dob", "r-sex", "r-ethnicity", "r-expiry", "r-address", "r-origin",
    "r-card-kind", "copy-status", "ins-message", "ins-meta", "ins-pill", "ins-line", "result-tech",
    "takeover-tech", "takeover-reason", "takeover-action", "error-title", "error-tech", "verdict-title",
    "verdict-text", "ins-holds", "ins-elapsed"]) $(id).textContent = "";
  for (const id of ["ins-pill", "ins-head-pill"]) {
    $(id).className = "pill";
    $(id).textContent = "";
    delete $(id).dataset.status;
  }
  for (const id of ["badges", "notices", "ins-fields", "ins-last-good"]) $(id).replaceChildren();
  $("ins-correct").hidden = true;
  $("ins-last-good").hidden = true;
  $("ins-right-line").hidden = true;
  $("verdict").className = "verdict";
  document.body.classList.remove("alert");
  $("placeholder").hidden = false;
  $("slip-fields").replaceChildren();
}

export function showPlaceholder(key) {
  $("placeholder-text").dataset.i18n = key;
  $("placeholder-text").textContent = t(key);
  $("placeholder").dataset.state = key;
}

// -- errors ----------------------------------------------------------------------------------------
export function showError(problem, canRetry = false) {
  state.errorProblem = { problem, canRetry };
  $("placeholder").hidden = true;
  $("error").hidden = false;
  const title = $("error-title");
  title.textContent = problemText(problem);
  title.dataset.slug = slugOf(problem);
  title.dataset.known = knownProblem(problem) ? "1" : "0";
  $("error-tech").textContent = technical([["type", problem.type], ["title", problem.title],
    ["status", problem.status], ["detail", problem.detail], ["sw", problem.sw]]);
  $("error-retry").hidden = !(problem.retry && canRetry);
}

// -- result ------------------------------------------------------------------------------------------
export function renderResult(scan) {
  const r = scan.result || {};
  const acceptance = acceptanceOf(r);
  $("placeholder").hidden = true;
  $("error").hidden = true;
  if (acceptance.state === "not_genuine") {
    renderTakeover(r, acceptance);
    return acceptance;
  }
  $("takeover").hidden = true;
  document.body.classList.remove("alert");
  const verdict = $("verdict");
  verdict.hidden = false;
  verdict.dataset.acceptance = acceptance.state;
  verdict.className = `verdict ${acceptance.state === "genuine" ? "genuine" : "issuer"}`;
  $("verdict-icon").textContent = acceptance.state === "genuine" ? "✓" : "!";
  if (acceptance.state === "genuine") {
    $("verdict-title").textContent = t("v_genuine");
    $("verdict-text").textContent = t("v_genuine_text");
  } else {
    $("verdict-title").textContent = t("v_issuer");
    const text = t(ISSUER_TEXT[acceptance.reason] || "v_issuer_no_store");
    $("verdict-text").textContent = r.identity ? text : `${text} ${t("v_issuer_no_data")}`;
  }
  if (!r.identity) {
    $("result").hidden = true;
    return acceptance;
  }
  $("result").hidden = false;
  renderIdentity(r, acceptance);
  return acceptance;
}

function renderTakeover(r, acceptance) {
  $("verdict").hidden = true;
  $("result").hidden = true;
  $("insurance").hidden = true;
  document.body.classList.add("alert");
  const box = $("takeover");
  box.hidden = false;
  box.dataset.reason = acceptance.reason || "unknown";
  $("takeover-title").textContent = t("v_not_genuine");
  $("takeover-reason").textContent = t(NOT_GENUINE_TEXT[acceptance.reason] || "v_unknown");
  $("takeover-action").textContent = t("v_action");
  $("takeover-ack").hidden = state.acknowledged;
  $("takeover-tech").textContent = resultTech(r, acceptance);
}

function renderIdentity(r, acceptance) {
  const id = r.identity;
  const report = r.report || {};
  const generation = generationOf(id);
  $("r-card-kind").textContent = t(generation === "2024" ? "card_2024" : "card_cccd");
  $("r-fields").dataset.generation = generation;
  for (const name of ["id_number", "date_of_birth", "sex", "ethnicity", "date_of_expiry", "place_of_residence",
    "place_of_origin"]) {
    $(`l-${name}`).textContent = fieldLabel(name, generation);
  }
  $("r-name").textContent = id.full_name || "";
  $("r-id").textContent = id.id_number || "";
  $("r-dob").textContent = id.date_of_birth
    ? `${isoToDmy(id.date_of_birth)}${id.age !== null && id.age !== undefined ? ` (${t("age", { n: id.age })})` : ""}` : "";
  $("r-sex").textContent = id.sex ? t(`sex_${id.sex}`) : "";
  $("r-ethnicity").textContent = id.ethnicity || "";
  const expiry = $("r-expiry");
  expiry.replaceChildren();
  expiry.className = "";
  if (id.no_expiry) expiry.textContent = t("no_expiry");
  else if (id.date_of_expiry) {
    expiry.append(isoToDmy(id.date_of_expiry));
    if (id.card_status === "expired") {
      expiry.className = "expired";
      expiry.append(" ", el("strong", { text: `— ${t("expired")}` }));
    } else if (id.card_status === "expiring") {
      expiry.append(` (${t("expiring", { n: id.days_left })})`);
    }
  }
  $("r-address").textContent = id.place_of_residence || "";
  $("r-origin").textContent = id.place_of_origin || "";
  $("r-origin").parentElement.hidden = !id.place_of_origin;

  const badges = $("badges");
  badges.replaceChildren();
  const badge = (cls, key, name) => badges.append(el("li", { class: `badge ${cls}`, text: t(key), "data-badge": name }));
  const clone = report.clone_check || {};
  if (report.not_a_clone) badge("ok", "badge_not_clone", "not-a-clone");
  else if (clone.outcome !== "failed") badge("info", "badge_clone_unchecked", "clone-unchecked");
  const repairs = id.repairs || [];
  if (repairs.length) badge("warn", "badge_repaired", "repaired");
  if (id.card_status === "expired") badge("bad", "badge_expired", "expired");

  const notices = $("notices");
  notices.replaceChildren();
  const notice = (cls, text) => notices.append(el("li", { class: cls, text }));
  if (repairs.length) {
    notice("warn", t("notice_repaired", { fields: repairs.map((x) => fieldLabel(x.field, generation)).join(", ") }));
  }
  const mismatches = (report.cross_checks || id.checks || []).filter((c) => c.verdict === "mismatch");
  if (mismatches.length) {
    const sources = [...new Set(mismatches.flatMap((c) => c.sources || [])
      .map((s) => (s === "QR" || s === "qr" ? t("source_qr") : t("source_chip"))))];
    notice("warn", t("notice_mismatch", {
      sources: sources.join(" / "),
      fields: mismatches.map((c) => fieldLabel(c.field, generation)).join(", "),
    }));
  }
  if (report.typed_id_number_matches === false) notice("bad", t("notice_typed"));
  $("result-tech").textContent = resultTech(r, acceptance);
}

// -- the day's list ---------------------------------------------------------------------------------
export function renderHistory(onOpen) {
  const list = $("history");
  list.replaceChildren();
  $("history-empty").hidden = state.history.length > 0;
  for (const item of state.history) {
    let who = "";
    let tag = "";
    let cls = "";
    if (item.state === "failed") {
      who = problemText({ type: item.problem_type || "", clerk_message: item.clerk_message, title: item.problem });
      tag = t("history_failed");
      cls = "bad";
    } else if (item.state !== "done") {
      who = t("history_reading");  // a reader's name is the device's, often English
      tag = "…";
    } else {
      const acceptance = item.acceptance || (item.accepted
        ? (item.verdict === "signer_not_trusted" ? "issuer_not_checked" : "genuine")
        : (item.verdict === "signer_not_trusted" ? "issuer_not_checked" : "not_genuine"));
      if (acceptance === "not_genuine") {
        who = t("history_not_genuine");
        cls = "bad";
      } else {
        who = item.full_name || (acceptance === "issuer_not_checked" ? t("history_issuer") : "");
        tag = item.id_number ? `…${item.id_number.slice(-4)}` : "";
        cls = acceptance === "genuine" ? "ok" : "warn";
      }
    }
    const button = el("button", { type: "button", "data-scan": item.id },
      el("span", { class: "time", text: timeOf(item.created_at) }),
      el("span", { class: "who", text: who }),
      el("span", { class: `badge ${cls}`, text: tag }));
    button.addEventListener("click", () => onOpen(item.id));
    list.append(el("li", {}, button));
  }
}

// -- readers, connection, status bar ------------------------------------------------------------------
export function renderReaders() {
  const select = $("reader-select");
  const chosen = select.value || sessionStorage.getItem("cccd.desk.reader");
  select.replaceChildren();
  if (!state.readers.length) {
    select.append(el("option", { value: "", text: t("reader_none") }));
    return;
  }
  for (const reader of state.readers) {
    let label = reader.name;
    if (reader.card_present === true) label += ` — ${t("reader_card")}`;
    else if (reader.card_present === false) label += ` — ${t("reader_no_card")}`;
    select.append(el("option", { value: reader.name, text: label }));
  }
  if (chosen && state.readers.some((r) => r.name === chosen)) select.value = chosen;
}

export function renderConnection() {
  const conn = $("conn");
  if (state.connected === null) return;
  conn.hidden = false;
  conn.className = `conn ${state.connected ? "on" : "off"}`;
  conn.textContent = t(state.connected ? "conn_on" : "conn_off");
}

export function renderStatusBar() {
  const bar = $("statusbar");
  bar.hidden = !state.key;
  const health = state.health || {};
  const trust = health.trust;
  const sbTrust = $("sb-trust");
  if (trust && typeof trust.cscas === "number") {
    sbTrust.textContent = trust.cscas === 0 ? t("sb_trust_none")
      : t("sb_trust_n", { n: trust.cscas, vn: t(trust.vietnamese_cscas > 0 ? "sb_trust_vn" : "sb_trust_no_vn") });
    sbTrust.className = trust.cscas === 0 || !trust.vietnamese_cscas ? "warn" : "";
  } else if (health.trust_store) {
    sbTrust.textContent = t(health.trust_store === "configured" ? "sb_trust_set" : "sb_trust_none");
    sbTrust.className = health.trust_store === "configured" ? "" : "warn";
  }
  const config = state.config || {};
  $("sb-hospital").textContent = config.hospital_code ? t("sb_hospital", { code: config.hospital_code }) : "";
  const clinics = config.clinic_list || {};
  $("sb-clinics").textContent = clinics.loaded ? t("sb_clinics", { n: clinics.clinics }) : t("sb_clinics_none");
  $("sb-gateway").textContent = health.bhxh_gateway === "not_configured" ? t("sb_gateway_none") : "";
  const account = state.account || {};
  $("sb-retention").textContent = typeof account.retention_hours === "number"
    ? t("sb_retention", { hours: Number(account.retention_hours.toFixed(2)) }) : "";
}

// -- the print slip: the current patient only ---------------------------------------------------------
export function fillSlip(rows) {
  const dl = $("slip-fields");
  dl.replaceChildren();
  for (const [label, value] of rows) {
    if (!value) continue;
    dl.append(el("div", {}, el("dt", { text: label }), el("dd", { text: value })));
  }
}
