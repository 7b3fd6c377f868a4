// The /api/v1 client: the desk key as a Bearer token, problems (RFC 9457) as ApiError.
import { state, t } from "./state.js";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(callback) { onUnauthorized = callback; }

export async function api(path, { method = "GET", body, raw = false, signal } = {}) {
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
    throw new ApiError(0, { type: "local/network", title: "network", clerk_message: t("err_network") });
  }
  if (response.status === 401 && state.key) {
    onUnauthorized(t("login_wrong"));
    throw new ApiError(401, { type: "unauthorized", title: "unauthorized" });
  }
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem || {});
  }
  return raw ? response : response.json();
}

// A route this service does not have (an older service): 404 or 405 from the router itself,
// not a problem the route raised.
export function missingRoute(err) {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 405) return true;
  return err.status === 404 && !err.problem.clerk_message && /\/not-found$/.test(err.problem.type || "")
    && (err.problem.title || "") === "Not found";
}
