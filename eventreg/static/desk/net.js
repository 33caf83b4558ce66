/* One way to ask the server: JSON, the staff session's cookie, the CSRF header on writes, and a
 * deadline. A server that does not answer within the deadline counts as unreachable (status 0),
 * like one that refuses the connection: the desk decides on the device either way. */

export const TIMEOUT_MS = 3000;

export async function fetchJson(url, { method = "GET", body, csrf, timeout = TIMEOUT_MS } = {}) {
  const headers = { Accept: "application/json" };
  if (csrf) headers["X-CSRFToken"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  try {
    const res = await fetch(url, { method, headers, credentials: "same-origin", cache: "no-store",
                                   body: body === undefined ? undefined : JSON.stringify(body),
                                   signal: abort.signal });
    const data = await res.json().catch(() => null);
    return { status: res.status, data };
  } catch (_e) {
    return { status: 0, data: null };
  } finally {
    clearTimeout(timer);
  }
}

/** The server's error code in an answer, if any (the API's {"error": {"code"}} shape). */
export function errorCode(res) {
  return (res.data && res.data.error && res.data.error.code) || "";
}
