// The diagnostics page: which HIS origin opened it (?origin=..., else the page embedding it,
// else the page that linked here), and what the service says about that origin, its readers,
// its trust store and its BHXH gateway, with the fix for each problem.

const $ = (id) => document.getElementById(id);

function hisOrigin() {
  const given = new URLSearchParams(location.search).get("origin");
  if (given) return given;
  if (location.ancestorOrigins && location.ancestorOrigins.length) return location.ancestorOrigins[0];
  try { return document.referrer ? new URL(document.referrer).origin : ""; } catch { return ""; }
}

function cell(id, text, ok) {
  $(id).textContent = text;
  if (ok !== undefined) $(id).dataset.state = ok ? "ok" : "problem";
}

async function run() {
  const origin = hisOrigin();
  const query = origin ? `?origin=${encodeURIComponent(origin)}` : "";
  let status;
  try {
    const response = await fetch(`/desk/diagnostics/status${query}`, { cache: "no-store" });
    status = await response.json();
  } catch {
    cell("summary", "Không kết nối được dịch vụ cccd", false);
    return;
  }
  const page = status.page || {};
  cell("origin", page.origin || "(không rõ — mở trang này với ?origin=https://his…)");
  if (page.origin) cell("allowed", page.allowed ? "Có (yes)" : "Không (no)", page.allowed);
  const readers = status.readers || [];
  cell("readers", readers.length ? readers.map((r) => r.name).join(", ") : "Không có (none)", readers.length > 0);
  cell("pcsc", status.pcsc);
  cell("trust", status.trust.configured ? `${status.trust.cscas} CSCA` : "Chưa cài (not installed)", status.trust.configured);
  cell("bhxh", status.bhxh_gateway === "configured" ? "Đã cấu hình (configured)" : "Chưa cấu hình (not configured)", status.bhxh_gateway === "configured");
  $("fixes").replaceChildren(...status.fixes.map((fix) => {
    const li = document.createElement("li");
    li.dataset.code = fix.code;
    li.textContent = fix.vi;
    const en = document.createElement("small");
    en.lang = "en";
    en.textContent = fix.en;
    li.append(en);
    return li;
  }));
  const ok = status.ok && (!page.origin || page.allowed);
  cell("summary", ok ? "Sẵn sàng (ready)" : "Cần sửa cấu hình (see below)", ok);
  document.body.dataset.done = "yes";
}

run();
