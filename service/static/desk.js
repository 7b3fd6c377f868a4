// The desk page (issue 10). No build step, no dependencies, no network beyond this service.
// The desk key lives in sessionStorage only; identities, photos and insurance answers live in
// memory and in the DOM, and are dropped on "next patient" and on log-out.

const API = "/api/v1";
const KEY_STORE = "cccd.desk.key";
const LANG_STORE = "cccd.desk.lang";
const READER_STORE = "cccd.desk.reader";

// -- texts -----------------------------------------------------------------------------------
const T = {
  vi: {
    app_title: "Bàn tiếp đón · CCCD gắn chip",
    logout: "Đăng xuất",
    switch_lang: "English",
    switch_lang_label: "Switch to English",
    login_title: "Đăng nhập bàn tiếp đón",
    login_hint: "Nhập khóa của bàn này (do bộ phận CNTT cấp). Khóa chỉ được giữ đến khi đóng thẻ trình duyệt.",
    key_label: "Khóa bàn tiếp đón",
    login_demo: "Chế độ giả lập: khóa demo được in ra khi chạy cccd serve --simulated.",
    login_button: "Đăng nhập",
    login_wrong: "Khóa không đúng: kiểm tra lại khóa của bàn",
    login_empty: "Nhập khóa của bàn tiếp đón",
    login_network: "Không kết nối được dịch vụ đọc thẻ: kiểm tra dịch vụ đang chạy",
    scan_region: "Đọc thẻ",
    result_region: "Kết quả",
    reader_label: "Đầu đọc",
    reader_card: "có thẻ",
    reader_no_card: "chưa có thẻ",
    reader_none: "Không thấy đầu đọc nào",
    id_label: "Số CCCD (12 số) hoặc quét mã QR",
    id_hint: "Gõ 12 số trên thẻ rồi nhấn Enter, hoặc quét mã QR trên thẻ.",
    scan_button: "Đọc thẻ",
    status_title: "Trạng thái",
    status_idle: "Sẵn sàng",
    status_sending: "Đang gửi yêu cầu đọc…",
    status_queued: "Đang chờ đầu đọc…",
    status_queued_n: "Đang chờ lượt: còn {n} lượt đọc trước",
    status_waiting: "Đặt thẻ lên đầu đọc…",
    status_reading: "Đang đọc chip…",
    status_verifying: "Đang xác thực thẻ…",
    status_done: "Đã đọc xong",
    status_failed: "Không đọc được thẻ",
    status_file: "Đang đọc {file}: {done} / {total} byte",
    status_took: "Đọc {read} giây · xác thực {verify} giây · {apdus} lệnh",
    conn_on: "Đã kết nối",
    conn_off: "Mất kết nối: đang thử lại…",
    history_title: "Hôm nay tại bàn này",
    history_empty: "Chưa có lượt đọc nào hôm nay.",
    history_failed: "Lỗi",
    history_reading: "Đang đọc",
    history_not_genuine: "Không xác thực",
    refresh: "Làm mới",
    demo_title: "Giả lập: đặt thẻ mẫu lên đầu đọc đang chọn",
    demo_card: "Công dân (hư cấu)",
    demo_fault: "Lỗi của thẻ",
    demo_insert: "Đặt thẻ lên",
    demo_remove: "Lấy thẻ ra",
    demo_inserted: "Đã đặt thẻ lên {reader}",
    demo_removed: "Đã lấy thẻ khỏi {reader}",
    demo_empty: "{reader} không có thẻ",
    placeholder: "Đặt thẻ CCCD lên đầu đọc và nhập số CCCD để bắt đầu.",
    retry: "Đọc lại",
    warning_title: "CẢNH BÁO: thẻ không xác thực được",
    warn_invalid: "Dữ liệu trên chip đã bị sửa sau khi cấp: có thể là thẻ giả mạo.",
    warn_clone: "Chip là bản sao: chip không chứng minh được khóa bí mật của thẻ thật.",
    warn_untrusted: "Chữ ký số trên chip không do cơ quan cấp thẻ được tin cậy phát hành.",
    warn_other: "Không xác minh được tính xác thực của chip ({verdict}).",
    warn_action: "Không dùng dữ liệu này. Kiểm tra giấy tờ gốc của người bệnh.",
    no_photo: "Không có ảnh",
    photo_alt: "Ảnh chân dung đọc từ chip",
    badges_label: "Kết quả xác thực",
    badge_genuine: "Chip thật",
    badge_not_clone: "Không phải thẻ sao chép",
    badge_clone_unchecked: "Chưa kiểm tra sao chép",
    badge_no_trust: "Chưa cấu hình kho chứng thư (CSCA)",
    badge_repaired: "Đã sửa lỗi chữ",
    badge_expired: "Thẻ hết hạn",
    f_id_number: "Số CCCD",
    f_full_name: "Họ và tên",
    f_date_of_birth: "Ngày sinh",
    f_sex: "Giới tính",
    f_ethnicity: "Dân tộc",
    f_date_of_expiry: "Có giá trị đến",
    f_place_of_residence: "Nơi thường trú",
    f_place_of_origin: "Quê quán",
    f_nationality: "Quốc tịch",
    f_religion: "Tôn giáo",
    f_old_id_number: "Số CMND cũ",
    f_card_code: "Mã thẻ BHYT",
    age: "{n} tuổi",
    no_expiry: "Không thời hạn",
    expired: "ĐÃ HẾT HẠN",
    expiring: "sắp hết hạn: còn {n} ngày",
    notice_repaired: "Chữ trên chip bị lỗi mã ({enc}) đã được sửa ở: {fields}. Đối chiếu với thẻ.",
    notice_mismatch: "Thông tin khác nhau giữa {sources}: {fields}. Đối chiếu với thẻ.",
    notice_typed: "Số CCCD trên chip khác số đã nhập: kiểm tra đúng người, đúng thẻ.",
    notice_no_trust: "Chưa cài kho chứng thư CSCA: chữ ký hợp lệ nhưng chưa xác nhận được cơ quan cấp. Báo bộ phận CNTT.",
    copy_text: "Chép cho HIS (văn bản)",
    copy_his: "Chép cho HIS (mã trường)",
    copied: "Đã chép vào bộ nhớ tạm",
    copy_failed: "Không chép được: chọn và chép bằng tay",
    next_patient: "Người tiếp theo",
    ins_title: "Thẻ bảo hiểm y tế (BHYT)",
    ins_again: "Kiểm tra lại",
    ins_checking: "Đang hỏi cổng BHXH…",
    ins_usable: "Dùng được",
    ins_not_usable: "Không dùng được",
    ins_unknown: "Chưa kiểm tra được",
    ins_card_code: "Mã thẻ",
    ins_valid: "Giá trị sử dụng",
    ins_clinic: "Nơi ĐKKCB ban đầu",
    ins_office: "Cơ quan BHXH",
    ins_new_card: "Mã thẻ mới",
    ins_new_valid: "Thẻ mới có giá trị",
    ins_new_clinic: "Nơi ĐKKCB (thẻ mới)",
    ins_gateway: "Cổng BHXH báo",
    ins_five_years: "Đủ 5 năm liên tục từ",
    ins_differences: "Khác với CCCD",
    ins_diff_different: "khác",
    ins_diff_diacritics: "khác dấu",
    ins_meta: "Kiểm tra lúc {time}{cached}",
    ins_cached: " (kết quả đã lưu hôm nay)",
    ins_error: "Không hỏi được cổng BHXH",
    sex_Nam: "Nam",
    "sex_Nữ": "Nữ",
    err_empty: "Chưa nhập số CCCD: gõ 12 số trên thẻ hoặc quét mã QR",
    err_length: "Sai số CCCD: cần đủ 12 số (đang có {n} số)",
    err_network: "Mất kết nối với dịch vụ đọc thẻ: kiểm tra mạng rồi đọc lại",
    err_no_reader: "Chưa chọn đầu đọc: chọn đầu đọc rồi đọc lại",
    err_generic: "Có lỗi: đọc lại; nếu vẫn lỗi, báo bộ phận CNTT",
  },
  en: {
    app_title: "Reception desk · chip ID card (CCCD)",
    logout: "Log out",
    switch_lang: "Tiếng Việt",
    switch_lang_label: "Chuyển sang tiếng Việt",
    login_title: "Desk log-in",
    login_hint: "Enter this desk's key (from the IT team). It is kept only until this browser tab is closed.",
    key_label: "Desk key",
    login_demo: "Simulated mode: the demo key is printed by cccd serve --simulated.",
    login_button: "Log in",
    login_wrong: "Wrong key: check this desk's key",
    login_empty: "Enter the desk key",
    login_network: "Cannot reach the card service: check that it is running",
    scan_region: "Read a card",
    result_region: "Result",
    reader_label: "Reader",
    reader_card: "card on it",
    reader_no_card: "no card",
    reader_none: "No reader found",
    id_label: "ID number (12 digits) or scan the QR code",
    id_hint: "Type the 12 digits on the card and press Enter, or scan the card's QR code.",
    scan_button: "Read card",
    status_title: "Status",
    status_idle: "Ready",
    status_sending: "Sending the read request…",
    status_queued: "Waiting for the reader…",
    status_queued_n: "Queued: {n} read(s) ahead",
    status_waiting: "Put the card on the reader…",
    status_reading: "Reading the chip…",
    status_verifying: "Verifying the card…",
    status_done: "Done",
    status_failed: "The card could not be read",
    status_file: "Reading {file}: {done} / {total} bytes",
    status_took: "Read {read} s · verified {verify} s · {apdus} commands",
    conn_on: "Connected",
    conn_off: "Connection lost: retrying…",
    history_title: "Today at this desk",
    history_empty: "No reads yet today.",
    history_failed: "Error",
    history_reading: "Reading",
    history_not_genuine: "Not verified",
    refresh: "Refresh",
    demo_title: "Demo: put a sample card on the chosen reader",
    demo_card: "Citizen (fictional)",
    demo_fault: "Card fault",
    demo_insert: "Put card on",
    demo_remove: "Take card off",
    demo_inserted: "Card put on {reader}",
    demo_removed: "Card taken off {reader}",
    demo_empty: "{reader} holds no card",
    placeholder: "Put the ID card on the reader and type its number to start.",
    retry: "Read again",
    warning_title: "WARNING: this card is not genuine",
    warn_invalid: "The data on the chip was changed after issue: the card may be forged.",
    warn_clone: "The chip is a copy: it could not prove it holds the genuine card's private key.",
    warn_untrusted: "The chip's signature was not issued by a trusted card authority.",
    warn_other: "The chip could not be verified as genuine ({verdict}).",
    warn_action: "Do not use this data. Check the patient's original documents.",
    no_photo: "No photo",
    photo_alt: "Face photo read from the chip",
    badges_label: "Verification result",
    badge_genuine: "Chip genuine",
    badge_not_clone: "Not a clone",
    badge_clone_unchecked: "Clone check not done",
    badge_no_trust: "Trust store not configured",
    badge_repaired: "Text repaired",
    badge_expired: "Card expired",
    f_id_number: "ID number",
    f_full_name: "Full name",
    f_date_of_birth: "Date of birth",
    f_sex: "Sex",
    f_ethnicity: "Ethnicity",
    f_date_of_expiry: "Valid until",
    f_place_of_residence: "Address",
    f_place_of_origin: "Place of origin",
    f_nationality: "Nationality",
    f_religion: "Religion",
    f_old_id_number: "Old ID number",
    f_card_code: "Insurance card code",
    age: "age {n}",
    no_expiry: "No expiry",
    expired: "EXPIRED",
    expiring: "expires in {n} days",
    notice_repaired: "Garbled text on the chip ({enc}) was repaired in: {fields}. Compare with the card.",
    notice_mismatch: "{sources} disagree on: {fields}. Compare with the card.",
    notice_typed: "The ID number on the chip differs from the one typed: check person and card.",
    notice_no_trust: "No CSCA trust store installed: the signature is consistent but the issuer is not confirmed. Tell the IT team.",
    copy_text: "Copy for HIS (text)",
    copy_his: "Copy for HIS (fields)",
    copied: "Copied to the clipboard",
    copy_failed: "Could not copy: select and copy by hand",
    next_patient: "Next patient",
    ins_title: "Health insurance card (BHYT)",
    ins_again: "Check again",
    ins_checking: "Asking the BHXH gateway…",
    ins_usable: "Usable",
    ins_not_usable: "Not usable",
    ins_unknown: "Not checked",
    ins_card_code: "Card code",
    ins_valid: "Valid",
    ins_clinic: "Registered clinic",
    ins_office: "BHXH office",
    ins_new_card: "New card code",
    ins_new_valid: "New card valid",
    ins_new_clinic: "Clinic (new card)",
    ins_gateway: "Gateway says",
    ins_five_years: "5 continuous years from",
    ins_differences: "Differs from the ID card",
    ins_diff_different: "different",
    ins_diff_diacritics: "diacritics differ",
    ins_meta: "Checked at {time}{cached}",
    ins_cached: " (today's saved answer)",
    ins_error: "The BHXH gateway could not be asked",
    sex_Nam: "Male",
    "sex_Nữ": "Female",
    err_empty: "No ID number yet: type the 12 digits on the card or scan its QR code",
    err_length: "Wrong ID number: it needs 12 digits ({n} typed)",
    err_network: "Lost the connection to the card service: check the network and read again",
    err_no_reader: "No reader chosen: choose a reader and read again",
    err_generic: "Something went wrong: read again; if it persists, tell the IT team",
  },
};

// What the clerk should do, by problem type, for the English page (the service writes the
// Vietnamese clerk_message itself).
const PROBLEM_EN = {
  "wrong-access-key": "Wrong ID number: check the 12 digits",
  "card-removed": "The card was taken off during the read: put it back",
  "no-card": "No card on the reader: put the card on the reader and read again",
  "read-timeout": "The read took too long: lift the card, put it back and read again",
  "card-timeout": "The card stopped answering: lift it, put it back and read again",
  "reader-error": "Reader error: put the card back; if it persists, check the reader cable",
  "secure-messaging": "The connection to the chip broke: put the card back and read again",
  "card-protocol": "The card answered oddly: read again; if it persists, use the card's QR code",
  "card-data-malformed": "The chip's data is damaged: use the QR code and check the documents",
  "card-unsupported": "This card type is not supported yet: use the card's QR code",
  "card-refused": "The card refused the read: put it back and read again",
  "card-error": "The card could not be read: put it back and read again",
  "invalid-access-key": "Type all 12 digits of the ID number or scan the QR code",
  "invalid-request": "Type all 12 digits of the ID number or scan the QR code",
  "unknown-reader": "Reader not found: choose the reader again",
  "queue-full": "The reader is busy: wait for the previous read to finish",
  "unauthorized": "Wrong desk key: log in again",
  "rate-limited": "Too many requests: wait a moment and try again",
  "not-found": "No verified card data yet: read the ID card",
  "photo-expired": "The photo is no longer kept: read the card again",
  "internal": "The service failed: read again; if it persists, tell the IT team",
};
const PROBLEM_VI = {
  "invalid-request": "Nhập đủ 12 số CCCD hoặc quét mã QR",
  "rate-limited": "Quá nhiều yêu cầu: chờ một chút rồi thử lại",
  "internal": "Dịch vụ bị lỗi: đọc lại; nếu vẫn lỗi, báo bộ phận CNTT",
};
const REPAIR_FIELDS = ["full_name", "place_of_origin", "place_of_residence", "ethnicity",
  "religion", "nationality", "father_name", "mother_name", "spouse_name"];
const FIELD_VI = { father_name: "Họ tên cha", mother_name: "Họ tên mẹ", spouse_name: "Họ tên vợ/chồng",
  identifying_marks: "Đặc điểm nhận dạng", document_number: "Số giấy tờ", date_of_issue: "Ngày cấp" };
const FIELD_EN = { father_name: "Father", mother_name: "Mother", spouse_name: "Spouse",
  identifying_marks: "Identifying marks", document_number: "Document number", date_of_issue: "Date of issue" };
// Rough share of the bytes each file holds on a CCCD: the photo (DG2) is most of the read.
const FILE_WEIGHT = { DG2: 14, SOD: 2 };

// -- state (memory only) ---------------------------------------------------------------------
const state = {
  key: null,
  lang: "vi",
  desk: null,
  readers: [],
  simulated: false,
  demo: null,
  scan: null,          // the scan this desk is watching
  filesSeen: [],       // files read so far in that scan, for the progress bar
  photoUrl: null,      // blob: URL of the shown photo
  insurance: null,
  insuranceUrl: null,
  history: [],
  statusKey: "status_idle",
  statusArgs: {},
  errorProblem: null,
  eventsAbort: null,
  connected: null,
};

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
};

function t(key, args = {}) {
  const table = T[state.lang] || T.vi;
  let text = table[key] ?? T.vi[key] ?? key;
  for (const [k, v] of Object.entries(args)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

function fieldLabel(name) {
  const key = `f_${name}`;
  if (T.vi[key]) return t(key);
  return (state.lang === "en" ? FIELD_EN : FIELD_VI)[name] || name;
}

function isoToDmy(iso) {
  if (!iso) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

function timeOf(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(state.lang === "en" ? "en-GB" : "vi-VN", { hour: "2-digit", minute: "2-digit" });
}

function slugOf(problem) {
  const type = (problem && problem.type) || "";
  return type.slice(type.lastIndexOf("/") + 1);
}

function problemText(problem) {
  const slug = slugOf(problem);
  if (state.lang === "en") return PROBLEM_EN[slug] || problem.title || t("err_generic");
  return problem.clerk_message || PROBLEM_VI[slug] || problem.title || t("err_generic");
}

// -- HTTP --------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, { method = "GET", body, raw = false, signal } = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { type: "network", title: t("err_network"), clerk_message: t("err_network") });
  }
  if (response.status === 401 && state.key) {
    logout(t("login_wrong"));
    throw new ApiError(401, { type: "unauthorized", title: "unauthorized" });
  }
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  return raw ? response : response.json();
}

// -- language ----------------------------------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAria));
  }
  const lang = $("lang");
  lang.textContent = t("switch_lang");
  lang.setAttribute("aria-label", t("switch_lang_label"));
  lang.lang = state.lang === "vi" ? "en" : "vi";
  document.title = t("app_title");
  $("r-photo").alt = t("photo_alt");
  renderReaders();
  renderDemo();
  renderStatus();
  renderConnection();
  renderHistory();
  if (state.errorProblem) showError(state.errorProblem);
  if (state.scan && state.scan.result) renderResult(state.scan);
  if (state.insurance) renderInsurance(state.insurance);
}

// -- log-in ----------------------------------------------------------------------------------
async function login(key) {
  state.key = key;
  const readers = await api("readers");  // throws on a wrong key
  sessionStorage.setItem(KEY_STORE, key);
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  takeReaders(readers);
  if (state.simulated) loadDemo();
  loadHistory();
  startEvents();
  setStatus("status_idle");
  $("id-input").focus();
}

function logout(message) {
  state.key = null;
  sessionStorage.removeItem(KEY_STORE);
  if (state.eventsAbort) state.eventsAbort.abort();
  state.eventsAbort = null;
  clearResult();
  state.scan = null;
  state.history = [];
  state.desk = null;
  $("history").replaceChildren();
  $("app-view").hidden = true;
  $("logout").hidden = true;
  $("conn").hidden = true;
  $("desk-name").hidden = true;
  $("login-view").hidden = false;
  $("key-input").value = "";
  const error = $("login-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("key-input").focus();
}

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

// -- readers ---------------------------------------------------------------------------------
function takeReaders(body) {
  state.readers = body.readers || [];
  state.simulated = Boolean(body.simulated);
  $("demo").hidden = !state.simulated;
  renderReaders();
}

function renderReaders() {
  const select = $("reader-select");
  const chosen = select.value || sessionStorage.getItem(READER_STORE);
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

function updateReader(data) {
  const index = state.readers.findIndex((r) => r.name === data.name);
  if (index >= 0) state.readers[index] = { ...state.readers[index], ...data };
  else state.readers.push(data);
  renderReaders();
}

// -- server-sent events through fetch (EventSource cannot send the Authorization header) ------
async function startEvents() {
  if (state.eventsAbort) state.eventsAbort.abort();
  const abort = new AbortController();
  state.eventsAbort = abort;
  let retry = 2000;
  while (!abort.signal.aborted && state.key) {
    try {
      const response = await api("events", { raw: true, signal: abort.signal });
      setConnected(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const parsed = parseEvent(block);
          if (parsed.retry) retry = parsed.retry;
          if (parsed.data !== null) onEvent(parsed.event, parsed.data);
        }
      }
    } catch (err) {
      if (abort.signal.aborted) return;
    }
    if (abort.signal.aborted || !state.key) return;
    setConnected(false);
    await new Promise((resolve) => setTimeout(resolve, retry));
    if (state.scan && !isFinal(state.scan.state)) followScan(state.scan.id);
  }
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  let retry = 0;
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
  }
  return { event, data: data.length ? data.join("\n") : null, retry };
}

function onEvent(kind, text) {
  let data;
  try { data = JSON.parse(text); } catch { return; }
  if (kind === "reader") updateReader(data);
  else if (kind === "scan" && state.scan && data.id === state.scan.id && !isFinal(state.scan.state)) {
    showProgress(data);
  }
}

function setConnected(on) {
  state.connected = on;
  renderConnection();
}

function renderConnection() {
  const conn = $("conn");
  if (state.connected === null) return;
  conn.hidden = false;
  conn.className = `conn ${state.connected ? "on" : "off"}`;
  conn.textContent = t(state.connected ? "conn_on" : "conn_off");
}

// -- scanning ----------------------------------------------------------------------------------
function isFinal(s) { return s === "done" || s === "failed"; }

function accessFromInput(text) {
  const value = text.trim();
  if (!value) return { error: t("err_empty") };
  // A QR payload holds '|' between fields; keyboard-wedge scanners type it in whole.
  if (value.includes("|")) return { body: { qr: value } };
  const digits = value.replace(/[\s.\-]/g, "");
  if (!/^\d{12}$/.test(digits)) {
    return { error: t("err_length", { n: digits.replace(/\D/g, "").length }) };
  }
  return { body: { id_number: digits } };
}

async function onScanSubmit(event) {
  event.preventDefault();
  const reader = $("reader-select").value;
  if (!reader) {
    showError({ clerk_message: t("err_no_reader"), title: t("err_no_reader") });
    return;
  }
  const access = accessFromInput($("id-input").value);
  if (access.error) {
    showError({ type: "local/invalid-id", clerk_message: access.error, title: access.error, local: true });
    $("id-input").select();
    return;
  }
  sessionStorage.setItem(READER_STORE, reader);
  clearResult();
  setStatus("status_sending");
  $("scan-button").disabled = true;
  try {
    const scan = await api("scans", { method: "POST", body: { reader, ...access.body } });
    state.desk = scan.desk;
    showDesk();
    state.scan = scan;
    state.filesSeen = [];
    showProgress(scan);
    followScan(scan.id);
    loadHistory();
  } catch (err) {
    if (err.status === 401) return;
    setStatus("status_failed");
    showError(err.problem || {});
    $("id-input").select();
  } finally {
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
async function followScan(id) {
  for (let attempt = 0; attempt < 40; attempt++) {
    if (!state.scan || state.scan.id !== id) return;
    let scan;
    try {
      scan = await api(`scans/${encodeURIComponent(id)}?wait=20`);
    } catch (err) {
      if (err.status === 401) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (!state.scan || state.scan.id !== id) return;
    if (isFinal(scan.state)) {
      finishScan(scan);
      return;
    }
    showProgress(scan);
  }
}

function showProgress(scan) {
  state.scan = { ...state.scan, ...scan };
  const p = scan.progress || {};
  if (p.file && !state.filesSeen.includes(p.file)) state.filesSeen.push(p.file);
  if (scan.state === "queued") {
    const n = scan.queue_position;
    setStatus(n ? "status_queued_n" : "status_queued", { n }, null, "waiting");
  } else if (scan.waiting_for_card) {
    setStatus("status_waiting", {}, null, "waiting");
  } else if (scan.state === "reading") {
    const detail = p.file ? t("status_file", { file: p.file, done: p.file_bytes, total: p.file_total }) : "";
    setStatus("status_reading", {}, progressPercent(p), "reading", detail);
  } else if (scan.state === "verifying") {
    setStatus("status_verifying", {}, 100, "reading");
  }
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
    if (name === p.file) {
      done += p.file_total ? weight(name) * Math.min(1, p.file_bytes / p.file_total) : 0;
    } else {
      done += weight(name);
    }
  }
  return Math.max(3, Math.min(97, Math.round((100 * done) / total)));
}

function finishScan(scan) {
  state.scan = scan;
  loadHistory();
  if (scan.state === "failed") {
    setStatus("status_failed", {}, null, "failed");
    showError(scan.problem || {});
    $("id-input").select();
    return;
  }
  const r = scan.result || {};
  const timings = r.timings || {};
  setStatus("status_done", {}, null, "done", t("status_took", {
    read: (timings.read_seconds ?? 0).toFixed(1), verify: (timings.verify_seconds ?? 0).toFixed(2),
    apdus: timings.apdus ?? 0,
  }));
  renderResult(scan);
  if (r.accepted && r.identity) {
    $("id-input").value = "";
    loadPhoto(r.photo_url);
    state.insuranceUrl = r.insurance_url;
    loadInsurance(false);
  } else {
    $("id-input").select();
  }
}

function setStatus(key, args = {}, percent = null, mode = null, detail = "") {
  state.statusKey = key;
  state.statusArgs = args;
  state.statusPercent = percent;
  state.statusMode = mode || (key === "status_idle" ? "idle" : "reading");
  state.statusDetail = detail;
  renderStatus();
}

function renderStatus() {
  const text = $("status-text");
  text.textContent = t(state.statusKey, state.statusArgs);
  text.dataset.state = state.statusMode || "idle";
  const bar = $("progress");
  if (state.statusPercent === null || state.statusPercent === undefined) {
    bar.hidden = true;
  } else {
    bar.hidden = false;
    bar.value = state.statusPercent;
    bar.setAttribute("aria-valuetext", `${state.statusPercent}%`);
  }
  $("status-detail").textContent = state.statusDetail || "";
}

// -- result ----------------------------------------------------------------------------------
function clearResult() {
  state.errorProblem = null;
  state.insurance = null;
  state.insuranceUrl = null;
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photoUrl = null;
  const img = $("r-photo");
  img.removeAttribute("src");
  for (const id of ["error", "warning", "result", "insurance"]) $(id).hidden = true;
  for (const id of ["r-name", "r-id", "r-dob", "r-sex", "r-ethnicity", "r-expiry", "r-address",
    "copy-status", "ins-message", "ins-meta"]) $(id).textContent = "";
  $("badges").replaceChildren();
  $("notices").replaceChildren();
  $("ins-fields").replaceChildren();
  $("placeholder").hidden = false;
}

function showError(problem) {
  state.errorProblem = problem;
  $("placeholder").hidden = true;
  $("error").hidden = false;
  $("error-title").textContent = problemText(problem);
  const detail = state.lang === "en" || !problem.title || problem.local ? "" : problem.title;
  $("error-detail").textContent = detail && detail !== problemText(problem) ? detail : "";
  $("error-retry").hidden = !(problem.retry && state.scan);
}

function renderResult(scan) {
  const r = scan.result || {};
  $("placeholder").hidden = true;
  $("error").hidden = true;
  const report = r.report || {};
  if (!r.accepted || !r.identity) {
    $("result").hidden = true;
    $("warning").hidden = false;
    const clone = report.clone_check || {};
    let reason;
    if (clone.outcome === "failed") reason = t("warn_clone");
    else if (r.verdict === "invalid") reason = t("warn_invalid");
    else if (r.verdict === "signer_not_trusted" || r.verdict === "chain_invalid") reason = t("warn_untrusted");
    else reason = t("warn_other", { verdict: r.verdict || "?" });
    $("warning-reason").textContent = reason;
    $("warning-action").textContent = state.lang === "vi" && r.clerk_message ? r.clerk_message : t("warn_action");
    return;
  }
  $("warning").hidden = true;
  $("result").hidden = false;
  const id = r.identity;
  $("r-name").textContent = id.full_name || "";
  $("r-id").textContent = id.id_number || "";
  $("r-dob").textContent = id.date_of_birth
    ? `${isoToDmy(id.date_of_birth)}${id.age != null ? ` (${t("age", { n: id.age })})` : ""}` : "";
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

  const badges = $("badges");
  badges.replaceChildren();
  const badge = (cls, key, extra = {}) => badges.append(el("li", { class: `badge ${cls}`, text: t(key), ...extra }));
  const pa = (report.passive_authentication || {}).status;
  if (r.genuine && pa === "verified") badge("ok", "badge_genuine", { "data-badge": "genuine" });
  const clone = report.clone_check || {};
  if (report.not_a_clone) badge("ok", "badge_not_clone", { "data-badge": "not-a-clone" });
  else if (clone.outcome !== "failed") badge("info", "badge_clone_unchecked", { "data-badge": "clone-unchecked" });
  const noTrust = r.verdict === "signer_not_trusted" && report.trust_store === "not_configured";
  if (noTrust) badge("warn", "badge_no_trust", { "data-badge": "no-trust-store" });
  const repairs = id.repairs || [];
  if (repairs.length) badge("warn", "badge_repaired", { "data-badge": "repaired" });
  if (id.card_status === "expired") badge("bad", "badge_expired", { "data-badge": "expired" });

  const notices = $("notices");
  notices.replaceChildren();
  const notice = (cls, text) => notices.append(el("li", { class: cls, text }));
  if (noTrust) notice("warn", t("notice_no_trust"));
  if (repairs.length) {
    const encodings = [...new Set(repairs.map((x) => (x.source_encoding || "").toUpperCase()))].join(", ");
    const fields = repairs.map((x) => fieldLabel(x.field)).join(", ");
    notice("warn", t("notice_repaired", { enc: encodings, fields }));
  }
  const mismatches = (report.cross_checks || id.checks || []).filter((c) => c.verdict === "mismatch");
  if (mismatches.length) {
    const sources = [...new Set(mismatches.flatMap((c) => c.sources || []))]
      .map((s) => (s === "DG13" || s === "DG1" ? "chip" : s));
    notice("warn", t("notice_mismatch", {
      sources: [...new Set(sources)].join(" / "),
      fields: mismatches.map((c) => fieldLabel(c.field)).join(", "),
    }));
  }
  if (report.typed_id_number_matches === false) notice("bad", t("notice_typed"));
}

async function loadPhoto(url) {
  const img = $("r-photo");
  $("r-photo-none").hidden = true;
  if (!url) {
    $("r-photo-none").hidden = false;
    return;
  }
  const scanId = state.scan && state.scan.id;
  try {
    const response = await api(url, { raw: true });
    const blob = await response.blob();
    if (!state.scan || state.scan.id !== scanId) return;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = URL.createObjectURL(blob);
    img.src = state.photoUrl;
  } catch {
    $("r-photo-none").hidden = false;
  }
}

// -- insurance -------------------------------------------------------------------------------
async function loadInsurance(refresh) {
  if (!state.insuranceUrl) return;
  const scanId = state.scan && state.scan.id;
  $("insurance").hidden = false;
  $("ins-pill").className = "pill";
  $("ins-pill").textContent = "";
  $("ins-message").textContent = t("ins_checking");
  $("ins-fields").replaceChildren();
  $("ins-meta").textContent = "";
  $("ins-again").disabled = true;
  try {
    const answer = await api(`${state.insuranceUrl}${refresh ? "?refresh=true" : ""}`);
    if (!state.scan || state.scan.id !== scanId) return;
    state.insurance = answer;
    renderInsurance(answer);
  } catch (err) {
    if (err.status === 401) return;
    state.insurance = null;
    $("ins-pill").className = "pill warn";
    $("ins-pill").textContent = t("ins_unknown");
    $("ins-message").textContent = `${t("ins_error")}: ${problemText(err.problem || {})}`;
  } finally {
    $("ins-again").disabled = false;
  }
}

function renderInsurance(ins) {
  $("insurance").hidden = false;
  const pill = $("ins-pill");
  const known = !["unavailable", "not_configured", "retry", "auth_error", "config_error",
    "unknown_code"].includes(ins.status);
  if (ins.usable_for_checkin) {
    pill.className = "pill ok";
    pill.textContent = t("ins_usable");
  } else if (known) {
    pill.className = "pill bad";
    pill.textContent = t("ins_not_usable");
  } else {
    pill.className = "pill warn";
    pill.textContent = t("ins_unknown");
  }
  pill.dataset.status = ins.status;
  $("ins-message").textContent = state.lang === "en" ? capitalise(ins.meaning || "") : ins.message_vi || "";
  const dl = $("ins-fields");
  dl.replaceChildren();
  const row = (key, value, wide = false) => {
    if (!value) return;
    dl.append(el("div", wide ? { class: "wide" } : {}, el("dt", { text: t(key) }), el("dd", { text: value })));
  };
  const card = ins.card || {};
  row("ins_card_code", card.card_code);
  if (card.valid_from || card.valid_to) row("ins_valid", `${card.valid_from || "…"} – ${card.valid_to || "…"}`);
  row("ins_clinic", card.registered_clinic);
  row("ins_five_years", card.five_years_from);
  const nc = ins.new_card;
  if (nc) {
    row("ins_new_card", nc.card_code);
    if (nc.valid_from || nc.valid_to) row("ins_new_valid", `${nc.valid_from || "…"} – ${nc.valid_to || "…"}`);
    row("ins_new_clinic", [nc.registered_clinic, nc.registered_clinic_name].filter(Boolean).join(" · "));
  }
  if (ins.differences && ins.differences.length) {
    row("ins_differences", ins.differences.map((d) =>
      `${fieldLabel(d.field)} (${t(d.kind === "diacritics" ? "ins_diff_diacritics" : "ins_diff_different")})`)
      .join(", "), true);
  }
  row("ins_gateway", ins.gateway_note, true);
  $("ins-meta").textContent = ins.checked_at
    ? t("ins_meta", { time: timeOf(ins.checked_at), cached: ins.cached ? t("ins_cached") : "" }) : "";
}

function capitalise(text) { return text ? text[0].toUpperCase() + text.slice(1) : text; }

// -- copy for HIS ------------------------------------------------------------------------------
function ymd(dmyOrIso) {
  if (!dmyOrIso) return "";
  let m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(dmyOrIso);
  if (m) return `${m[3]}${m[2]}${m[1]}`;
  m = /^(\d{4})-(\d{2})-(\d{2})/.exec(dmyOrIso);
  return m ? `${m[1]}${m[2]}${m[3]}` : "";
}

function insuranceCard() {
  const ins = state.insurance;
  if (!ins || !ins.usable_for_checkin) return null;
  return ins.new_card && ins.new_card.card_code ? { ...ins.card, ...ins.new_card } : ins.card || null;
}

function plainText() {
  const r = (state.scan || {}).result || {};
  const id = r.identity || {};
  const lines = [
    [t("f_full_name"), id.full_name],
    [t("f_id_number"), id.id_number],
    [t("f_date_of_birth"), isoToDmy(id.date_of_birth)],
    [t("f_sex"), id.sex ? t(`sex_${id.sex}`) : ""],
    [t("f_ethnicity"), id.ethnicity],
    [t("f_nationality"), id.nationality],
    [t("f_place_of_residence"), id.place_of_residence],
    [t("f_date_of_expiry"), id.no_expiry ? t("no_expiry") : isoToDmy(id.date_of_expiry)],
  ];
  const card = insuranceCard();
  if (card) {
    lines.push([t("f_card_code"), card.card_code]);
    lines.push([t("ins_valid"), card.valid_from || card.valid_to ? `${card.valid_from || ""} – ${card.valid_to || ""}` : ""]);
    lines.push([t("ins_clinic"), card.registered_clinic]);
  }
  return lines.filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`).join("\n");
}

// Field names of the HIS data exchange (Bộ Y tế QĐ 130/QĐ 4750, XML1): one KEY=value a line.
function hisText() {
  const r = (state.scan || {}).result || {};
  const fields = { ...(r.his || (r.identity || {}).his || {}) };
  const card = insuranceCard();
  if (card) {
    if (card.card_code) fields.MA_THE_BHYT = card.card_code;
    if (card.registered_clinic) fields.MA_DKBD = card.registered_clinic;
    if (card.valid_from) fields.GT_THE_TU = ymd(card.valid_from);
    if (card.valid_to) fields.GT_THE_DEN = ymd(card.valid_to);
  }
  return Object.entries(fields).filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${k}=${v}`).join("\n");
}

async function copy(text) {
  const status = $("copy-status");
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
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
    status.textContent = t("copied");
  } catch {
    status.textContent = t("copy_failed");
  }
}

// -- today's scans ---------------------------------------------------------------------------
async function loadHistory() {
  try {
    const body = await api("scans");
    state.history = body.scans || [];
  } catch {
    return;
  }
  renderHistory();
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren();
  $("history-empty").hidden = state.history.length > 0;
  for (const item of state.history) {
    let who;
    let tag;
    let cls = "";
    if (item.state === "failed") {
      who = item.problem || "";
      tag = t("history_failed");
      cls = "bad";
    } else if (item.state !== "done") {
      who = item.reader;
      tag = t("history_reading");
    } else if (item.accepted) {
      who = item.full_name || "";
      tag = item.id_number ? `…${item.id_number.slice(-4)}` : "";
      cls = "ok";
    } else {
      who = t("history_not_genuine");
      tag = "";
      cls = "bad";
    }
    const button = el("button", { type: "button", "data-scan": item.id },
      el("span", { class: "time", text: timeOf(item.created_at) }),
      el("span", { class: "who", text: who }),
      el("span", { class: `badge ${cls}`, text: tag }));
    button.addEventListener("click", () => openScan(item.id));
    list.append(el("li", {}, button));
  }
}

async function openScan(id) {
  try {
    const scan = await api(`scans/${encodeURIComponent(id)}`);
    clearResult();
    state.scan = scan;
    state.filesSeen = [];
    if (isFinal(scan.state)) finishScan(scan);
    else { showProgress(scan); followScan(scan.id); }
  } catch (err) {
    if (err.status !== 401) showError(err.problem || {});
  }
}

// -- demo panel (simulated mode) ---------------------------------------------------------------
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
  faults.replaceChildren(...state.demo.faults.map((f) =>
    el("option", { value: f.value, text: f.label[state.lang] || f.label.vi })));
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
    if (err.status !== 401) status.textContent = problemText(err.problem || {});
  }
}

// -- start -------------------------------------------------------------------------------------
function nextPatient() {
  clearResult();
  state.scan = null;
  setStatus("status_idle");
  const input = $("id-input");
  input.value = "";
  input.focus();
}

// Keyboard-wedge QR scanners that send no Enter: read once the burst of keys stops.
let wedgeTimer = null;
function onIdInput() {
  clearTimeout(wedgeTimer);
  const value = $("id-input").value;
  if ((value.match(/\|/g) || []).length >= 5) {
    wedgeTimer = setTimeout(() => $("scan-form").requestSubmit(), 600);
  }
}

function init() {
  $("noscript").hidden = true;
  state.lang = sessionStorage.getItem(LANG_STORE) === "en" ? "en" : "vi";
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("scan-form").addEventListener("submit", (event) => { clearTimeout(wedgeTimer); onScanSubmit(event); });
  $("id-input").addEventListener("input", onIdInput);
  $("id-input").addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.target.value = ""; }
  });
  $("reader-select").addEventListener("change", (e) => sessionStorage.setItem(READER_STORE, e.target.value));
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "vi" ? "en" : "vi";
    sessionStorage.setItem(LANG_STORE, state.lang);
    applyLanguage();
  });
  $("logout").addEventListener("click", () => logout(""));
  $("history-refresh").addEventListener("click", loadHistory);
  $("copy-text").addEventListener("click", () => copy(plainText()));
  $("copy-his").addEventListener("click", () => copy(hisText()));
  $("next-patient").addEventListener("click", nextPatient);
  $("ins-again").addEventListener("click", () => loadInsurance(true));
  $("error-retry").addEventListener("click", () => $("scan-form").requestSubmit());
  $("demo-insert").addEventListener("click", () => demoCard(true));
  $("demo-remove").addEventListener("click", () => demoCard(false));
  applyLanguage();
  // /healthz needs no key: it tells the log-in screen whether this is the demo service.
  fetch("/healthz", { cache: "no-store" }).then((r) => r.json())
    .then((h) => { $("login-demo").hidden = !h.simulated; }).catch(() => {});
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) {
    login(saved).catch(() => logout(""));
  } else {
    logout("");
  }
}

init();
