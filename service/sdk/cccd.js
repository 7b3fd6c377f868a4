// cccd.js -- the client for hospital-system (HIS) pages: one ES module, no dependencies.
//
//   import { connect, fillForm } from "http://127.0.0.1:8080/sdk/cccd.js";
//   const cccd = await connect({ key: "<desk key>", photo: "data" });
//   cccd.onResult((result) => fillForm(document.forms.patient, result.his));
//   await cccd.scan({ reader: "ACS ACR1281U", idNumber: "017072769692" });
//
// Results are pushed over the service's WebSocket (/api/v1/ws); the key is sent in the first
// message, never in a URL. A dropped connection reconnects by itself and resumes from the
// last event it saw, so a result finished meanwhile still arrives. Calls that fail reject
// with a CccdError carrying the service's problem document and `clerkMessage`, a sentence in
// Vietnamese the page can show the clerk as it is.

const RECONNECT_MS = [500, 1000, 2000, 5000, 10000];

/** An error from the service (RFC 9457 problem details), or from the connection. */
export class CccdError extends Error {
  constructor(problem) {
    super(problem.title || problem.detail || "cccd error");
    this.name = "CccdError";
    this.problem = problem;
    this.type = problem.type || "about:blank";
    this.status = problem.status || 0;
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    this.clerkMessage = problem.clerk_message || "";
  }
}

const CLERK = {
  network: "Không kết nối được dịch vụ đọc thẻ: kiểm tra cccd đang chạy trên máy này",
  origin: "Trang này chưa được phép gọi dịch vụ đọc thẻ: báo quản trị thêm địa chỉ trang vào CCCD_CORS_ORIGINS",
  key: "Khóa bàn tiếp đón không đúng: đăng nhập lại",
};

function problem(slug, title, clerk, extra = {}) {
  return new CccdError({ type: `https://cccd.invalid/problems/${slug}`, title, clerk_message: clerk, ...extra });
}

function serviceBase(url) {
  if (url) return String(url).replace(/\/+$/, "");
  return new URL(".", import.meta.url).href.replace(/\/sdk\/$/, "");
}

/**
 * Connect to the cccd service. Options:
 *   key      the desk API key (required)
 *   url      the service, e.g. "http://127.0.0.1:8080" (default: where this file came from)
 *   photo    "url" (default), "data" (the face image inline as a data: URL) or "none"
 *   results  false: events without results (default true)
 * Resolves once the service accepted the key; rejects with a CccdError otherwise.
 */
export function connect(options = {}) {
  const client = new Client(options);
  return client._open().then(() => client);
}

class Client {
  constructor({ key, url, photo = "url", results = true } = {}) {
    if (!key) throw problem("no-key", "connect() needs the desk key", CLERK.key);
    this.base = serviceBase(url);
    this._key = key;
    this._photo = photo;
    this._results = results;
    this._listeners = new Map();
    this._pending = new Map(); // scan id -> {resolve, reject}
    this._finished = new Map(); // scan id -> the final scan event (recent ones)
    this._lastEventId = "";
    this._closed = false;
    this._attempt = 0;
    this.connected = false;
    this.desk = null;
  }

  // -- events ----------------------------------------------------------------------------
  /** fn(result, scanEvent) for every finished scan of this desk; returns an unsubscribe. */
  onResult(fn) { return this.on("result", fn); }

  /** "result", "scan" (every state change), "reader", "status" ({connected}), "gap", "error". */
  on(kind, fn) {
    if (!this._listeners.has(kind)) this._listeners.set(kind, new Set());
    this._listeners.get(kind).add(fn);
    return () => this._listeners.get(kind).delete(fn);
  }

  _emit(kind, ...args) {
    for (const fn of this._listeners.get(kind) || []) {
      try { fn(...args); } catch (err) { setTimeout(() => { throw err; }); }
    }
  }

  // -- the WebSocket -----------------------------------------------------------------------
  _open() {
    return new Promise((resolve, reject) => {
      let welcomed = false;
      let refusal = null;
      const ws = new WebSocket(`${this.base.replace(/^http/, "ws")}/api/v1/ws`, ["cccd.v1"]);
      this._ws = ws;
      ws.onopen = () => {
        const hello = { type: "hello", key: this._key, photo: this._photo, results: this._results };
        if (this._lastEventId) hello.last_event_id = this._lastEventId;
        ws.send(JSON.stringify(hello));
      };
      ws.onmessage = (message) => {
        let msg;
        try { msg = JSON.parse(message.data); } catch { return; }
        if (msg.type === "welcome") {
          welcomed = true;
          this._attempt = 0;
          this.desk = msg.desk;
          this._setConnected(true);
          resolve();
        } else if (msg.type === "error") {
          refusal = new CccdError(msg.problem || {});
        } else {
          this._dispatch(msg);
        }
      };
      ws.onclose = (close) => {
        this._setConnected(false);
        const error = refusal || closeError(close);
        if (!welcomed) {
          if (this._reconnecting && !error.fatal) { this._retry(); return; }
          reject(error);
          return;
        }
        if (error.fatal) { this._closed = true; this._emit("error", error); return; }
        if (!this._closed) this._retry();
      };
    });
  }

  _retry() {
    const wait = RECONNECT_MS[Math.min(this._attempt++, RECONNECT_MS.length - 1)];
    this._reconnecting = true;
    setTimeout(() => {
      if (this._closed) return;
      this._open().catch((error) => { this._closed = true; this._emit("error", error); });
    }, wait);
  }

  _setConnected(on) {
    if (this.connected === on) return;
    this.connected = on;
    this._emit("status", { connected: on });
  }

  _dispatch(msg) {
    if (msg.id) this._lastEventId = msg.id;
    if (msg.type === "reader") this._emit("reader", msg.data);
    else if (msg.type === "gap") { this._emit("gap", msg.data); this._recheckPending(); }
    else if (msg.type === "scan") this._onScan(msg.data);
  }

  _onScan(scan) {
    this._emit("scan", scan);
    if (scan.state !== "done" && scan.state !== "failed") return;
    this._finished.set(scan.id, scan);
    if (this._finished.size > 50) this._finished.delete(this._finished.keys().next().value);
    if (scan.state === "done" && scan.result) this._emit("result", scan.result, scan);
    this._settle(scan);
  }

  _settle(scan) {
    const waiter = this._pending.get(scan.id);
    if (!waiter) return;
    this._pending.delete(scan.id);
    if (scan.state === "done") waiter.resolve(scan.result || null);
    else waiter.reject(new CccdError(scan.problem || { title: "The scan failed" }));
  }

  async _recheckPending() {
    // Events were lost (a long disconnection or a restart): ask for the scans still awaited.
    for (const id of [...this._pending.keys()]) {
      try {
        const scan = await this._call(`/api/v1/scans/${encodeURIComponent(id)}`);
        if (scan.state === "done" || scan.state === "failed") this._settle(scan);
      } catch (error) {
        const waiter = this._pending.get(id);
        if (waiter) { this._pending.delete(id); waiter.reject(error); }
      }
    }
  }

  /** Stop: no more events, no reconnection. */
  close() {
    this._closed = true;
    if (this._ws) this._ws.close(1000);
  }

  // -- calls -----------------------------------------------------------------------------
  async _call(path, init = {}) {
    let response;
    try {
      response = await fetch(this.base + path, {
        ...init,
        headers: { Authorization: `Bearer ${this._key}`, ...(init.headers || {}) },
        cache: "no-store",
      });
    } catch {
      throw problem("network", "The cccd service cannot be reached from this page", CLERK.network);
    }
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json().catch(() => ({})) : {};
    if (!response.ok) throw new CccdError({ status: response.status, title: response.statusText, ...body });
    return body;
  }

  /** The readers and whether a card is on them. */
  readers() { return this._call("/api/v1/readers"); }

  /** What is on a reader now: state, and the last result while its card stays. */
  card(reader) {
    return this._call(`/api/v1/readers/${encodeURIComponent(reader)}/card?photo=${this._photo}`);
  }

  /**
   * Read the card on `reader` with one access key: `idNumber` (12 digits) or `qr` (the QR
   * payload as the scanner typed it), or `can`. Resolves with the result when the read is
   * done (the same result onResult receives); rejects with a CccdError when it fails.
   */
  async scan({ reader, idNumber, qr, can } = {}) {
    const body = { reader };
    if (idNumber) body.id_number = String(idNumber).trim();
    if (qr) body.qr = qr;
    if (can) body.can = String(can).trim();
    const scan = await this._call("/api/v1/scans", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return new Promise((resolve, reject) => {
      this._pending.set(scan.id, { resolve, reject });
      const early = this._finished.get(scan.id);
      if (early) this._settle(early);
      else if (!this.connected) this._recheckPending();
    });
  }

  /** The latest verified identity for an ID number (within the retention window). */
  lookup(idNumber) { return this._call(`/api/v1/citizens/${encodeURIComponent(idNumber)}`); }

  /** The BHYT check for an ID number read earlier; `cardCode` checks a typed card code. */
  insurance(idNumber, { cardCode, refresh } = {}) {
    const query = new URLSearchParams();
    if (cardCode) query.set("card_code", cardCode);
    if (refresh) query.set("refresh", "true");
    const q = query.toString();
    return this._call(`/api/v1/citizens/${encodeURIComponent(idNumber)}/insurance${q ? `?${q}` : ""}`);
  }
}

function closeError(close) {
  if (close.code === 4403) {
    const error = problem("origin-not-allowed", close.reason || "This page's origin is not allowed", CLERK.origin, { status: 403 });
    error.fatal = true;
    return error;
  }
  if (close.code === 4401) {
    const error = problem("unauthorized", close.reason || "The desk key is not known", CLERK.key, { status: 401 });
    error.fatal = true;
    return error;
  }
  return problem("network", "The connection to the cccd service closed", CLERK.network, { code: close.code });
}

/** BHYT fields of the HIS exchange (QĐ 130 names) from an insurance() answer. */
export function insuranceFields(answer) {
  if (answer && answer.his) return { ...answer.his };
  const card = (answer && answer.card) || {};
  const fields = {};
  if (card.card_code) fields.MA_THE_BHYT = card.card_code;
  if (card.valid_from) fields.GT_THE_TU = yyyymmdd(card.valid_from);
  if (card.valid_to) fields.GT_THE_DEN = yyyymmdd(card.valid_to);
  if (card.registered_clinic) fields.MA_DKBD = card.registered_clinic;
  if (card.area_code) fields.MA_KHUVUC = card.area_code;
  return fields;
}

function yyyymmdd(text) {
  const dmy = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(String(text));
  if (dmy) return `${dmy[3]}${dmy[2]}${dmy[1]}`;
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(text));
  return iso ? `${iso[1]}${iso[2]}${iso[3]}` : String(text);
}

/**
 * Put `fields` ({HO_TEN: ..., SO_CCCD: ...}) into the form controls of the same name (or the
 * name `mapping` gives them), firing input and change events as typing would. Returns the
 * names filled.
 */
export function fillForm(form, fields, mapping = {}) {
  const filled = [];
  for (const [field, value] of Object.entries(fields || {})) {
    if (value === null || value === undefined) continue;
    const control = form.elements.namedItem(mapping[field] || field);
    if (!control || !("value" in control)) continue;
    control.value = String(value);
    // a radio group comes back as a RadioNodeList: tell each of its buttons
    const targets = typeof control.dispatchEvent === "function" ? [control] : [...control];
    for (const target of targets) {
      target.dispatchEvent(new Event("input", { bubbles: true }));
      target.dispatchEvent(new Event("change", { bubbles: true }));
    }
    filled.push(field);
  }
  return filled;
}
