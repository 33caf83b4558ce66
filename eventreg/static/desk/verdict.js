/* The desk's verdict on the device: the server's check-in rule (domain/reception/checkin.py),
 * read from the local roster. The server confirms it later through the batch; where the two
 * differ the desk says so. Pure functions: no storage, no network, no page. */

/** ``pass``: passcheck.readPass's answer (null: not a pass). ``lookup(pass)``: the local row of
 * the pass (with this desk's own unsent check-ins applied), or null. Returns {result, row,
 * provisional}: ``provisional`` when the signature is good but the roster does not know this
 * version yet (issued after the last sync): let in, and the server decides for good. */
export function decidePass(pass, { eventId, sessionId, lookup, resultOfStatus }) {
  if (pass === null) return { result: "unknown_pass", row: null, provisional: false };
  if (!pass.valid) {
    const otherEvent = pass.eventId !== null && pass.eventId !== undefined && pass.eventId !== eventId;
    return { result: otherEvent ? "wrong_event" : "unknown_pass", row: null, provisional: false };
  }
  const row = lookup(pass);
  if (row === null || pass.entryVersion > row.v) return { result: "ok", row, provisional: true };
  if (pass.entryVersion < row.v) {
    return { result: row.status === "cancelled" ? "cancelled" : "superseded", row, provisional: false };
  }
  return decideRow(row, { sessionId, resultOfStatus });
}

/** A person found by search (or a current pass's row): the session, the status, then whether
 * they are in already. */
export function decideRow(row, { sessionId, resultOfStatus }) {
  if (sessionId && row.session_id !== sessionId) return { result: "wrong_session", row, provisional: false };
  const admitted = resultOfStatus[row.status] || "unknown_pass";
  if (admitted !== "ok") return { result: admitted, row, provisional: false };
  if (row.checked_in_at) return { result: "already_checked_in", row, provisional: false };
  return { result: "ok", row, provisional: false };
}
