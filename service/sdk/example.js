// The example HIS registration page: connects to cccd with the desk key, and fills the
// patient form from every card read at this desk (pushed over the WebSocket), then from the
// BHYT check. Works served by cccd itself (/sdk/example.html) or copied to the HIS's own
// server, with ?service=http://127.0.0.1:8080 telling it where cccd runs.

const $ = (id) => document.getElementById(id);
const KEY_STORE = "cccd.example.key";

function defaultService() {
  const given = new URLSearchParams(location.search).get("service");
  if (given) return given;
  if (location.pathname.startsWith("/sdk/")) return location.origin;
  return "http://127.0.0.1:8080";
}

let cccd = null;
let sdk = null;

function say(text, error = false) {
  $("message").textContent = text;
  $("message").className = error ? "error" : "";
}

function showConnected(on) {
  $("conn").dataset.state = on ? "on" : "off";
  $("conn").textContent = on ? "Đã kết nối" : "Mất kết nối";
  $("scan-form").hidden = !on;
}

function clearPatient() {
  $("patient").reset();
  $("photo").hidden = true;
  $("photo").removeAttribute("src");
  $("verdict").value = "";
  $("insurance").value = "";
}

async function onResult(result, scan) {
  clearPatient();
  document.body.dataset.scan = scan.id;
  const item = document.createElement("li");
  item.dataset.scan = scan.id;
  item.textContent = `${new Date().toLocaleTimeString("vi-VN")} ${(result.his || {}).HO_TEN || "Thẻ không xác thực"}`;
  $("received").prepend(item);
  if (!result.accepted || !result.his) {
    $("verdict").value = "Không xác thực";
    say(result.clerk_message || "Thẻ không xác thực được: kiểm tra giấy tờ gốc", true);
    document.body.dataset.filled = "rejected";
    return;
  }
  sdk.fillForm($("patient"), result.his);
  $("verdict").value = result.genuine ? "Chip thật" : "Chưa kiểm tra nơi cấp";
  if (result.photo) {
    $("photo").src = result.photo;
    $("photo").hidden = false;
  }
  document.body.dataset.filled = scan.id;
  say(`Đã điền thông tin của ${result.his.HO_TEN}`);
  const idNumber = result.his.SO_CCCD;
  try {
    const answer = await cccd.insurance(idNumber);
    sdk.fillForm($("patient"), sdk.insuranceFields(answer));
    $("insurance").value = answer.message_vi || answer.status;
    document.body.dataset.insurance = answer.status;
  } catch (error) {
    $("insurance").value = error.clerkMessage || error.message;
    document.body.dataset.insurance = "error";
  }
}

async function connectTo(service, key) {
  if (cccd) cccd.close();
  say("Đang kết nối…");
  try {
    sdk = await import(`${service.replace(/\/+$/, "")}/sdk/cccd.js`);
  } catch {
    say("Không tải được cccd.js: kiểm tra địa chỉ dịch vụ và cccd đang chạy", true);
    document.body.dataset.error = "load";
    return;
  }
  try {
    cccd = await sdk.connect({ key, url: service, photo: "data" });
  } catch (error) {
    showConnected(false);
    say(error.clerkMessage || error.message, true);
    document.body.dataset.error = error.type.split("/").pop();
    return;
  }
  sessionStorage.setItem(KEY_STORE, key);
  window.cccd = cccd; // handy in the browser console
  delete document.body.dataset.error;
  showConnected(true);
  say("Đặt thẻ CCCD lên đầu đọc");
  cccd.on("status", ({ connected }) => showConnected(connected));
  cccd.on("error", (error) => say(error.clerkMessage || error.message, true));
  cccd.onResult(onResult);
  const { readers } = await cccd.readers();
  $("reader").replaceChildren(...readers.map((r) => new Option(r.name, r.name)));
  document.body.dataset.connected = "yes";
}

$("connect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  connectTo($("service").value.trim(), $("key").value.trim());
});

$("scan-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  say("Đang đọc thẻ…");
  try {
    await cccd.scan({ reader: $("reader").value, idNumber: $("id-number").value });
  } catch (error) {
    say(error.clerkMessage || error.message, true);
  }
});

$("service").value = defaultService();
const saved = sessionStorage.getItem(KEY_STORE);
if (saved) {
  $("key").value = saved;
  connectTo($("service").value, saved);
}
