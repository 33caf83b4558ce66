/* What this desk did and the server has not yet acknowledged: every scan, check-in, walk-in and
 * undo, made on the device first.
 *
 * Each operation gets a client id (uuid), this browser's next sequence number, the device time
 * and the desk's name; it is written (encrypted) to IndexedDB before the verdict is final, then
 * sent in batches to POST …/desk-batches: right after it is made, on `online` events and on a
 * timer (Safari and Firefox have no Background Sync). It leaves the queue only when the server
 * has answered for it; the server takes a batch twice without doing anything twice, so sending
 * again after a lost answer is safe.
 */

import { errorCode, fetchJson } from "./net.js";

// The server takes up to 200 a request; 50 keeps a batch well inside BATCH_TIMEOUT_MS on a busy
// server (measured: 13-70 ms an operation under load), so a slow answer is not sent twice, and the
// banner's count goes down as the queue drains.
const BATCH_LIMIT = 50;
const EVERY_MS = 2000;       // the timer, for when no `online` event comes (also a probe: the server is back)
const BATCH_TIMEOUT_MS = 8000;

export class Queue {
  constructor({ store, url, csrf, refreshCsrf, onChange, onResult, onSent }) {
    this.store = store;
    this.url = url;
    this.csrf = csrf;
    this.refreshCsrf = refreshCsrf;  // () → a fresh token (a page kept offline since another sign-in)
    this.onChange = onChange;        // the queue grew or shrank
    this.onResult = onResult;        // (op, result) for each operation the server answered
    this.onSent = onSent;            // (ok: bool, status) after each attempt
    this.ops = [];                   // in seq order
    this.sending = false;
    this.device = null;
    this.seq = 0;
    this.timer = 0;
  }

  get size() { return this.ops.length; }

  adopt(saved) {
    this.ops = saved.slice().sort((a, b) => a.seq - b.seq);
    this.onChange();
  }

  start() {
    this.timer = setInterval(() => this.flush(), EVERY_MS);
    window.addEventListener("online", () => this.flush());
    this.flush();
  }

  /** This browser's id and last sequence number (kept across reloads, so seq keeps rising). */
  async init() {
    const device = await this.store.device();
    this.device = device.id;
    this.seq = device.seq;
  }

  deviceRecord() { return { name: "device", id: this.device, seq: this.seq }; }

  /** Makes a new operation at once (the verdict does not wait), keeps it encrypted in IndexedDB
   * and sends it once kept. ``send``: the batch API's fields of this kind; ``local``: what the
   * device decided (kept, not sent). */
  add(kind, send, desk, local) {
    this.seq += 1;
    const op = { id: crypto.randomUUID(), seq: this.seq, at: new Date().toISOString(), kind, desk, send, local };
    this.ops.push(op);
    op.kept = this.store.putOps([op], () => this.deviceRecord())
      .then(() => { setTimeout(() => this.flush(), 0); }, (e) => { op.keepError = String(e); });
    this.onChange();
    return op;
  }

  /** After a change of key (a new sign-in), everything kept is written again under the new key. */
  reseal() {
    return this.ops.length ? this.store.putOps(this.ops, () => this.deviceRecord()) : Promise.resolve();
  }

  wire(op) {
    return { id: op.id, seq: op.seq, at: op.at, kind: op.kind, ...op.send };
  }

  async flush() {
    if (this.sending || !this.ops.length) return;
    this.sending = true;
    try {
      while (this.ops.length) {
        // One desk name per batch: a desk renamed mid-queue sends its older operations first.
        const desk = this.ops[0].desk;
        const batch = [];
        for (const op of this.ops) {
          if (op.desk !== desk || batch.length === BATCH_LIMIT) break;
          batch.push(op);
        }
        await Promise.all(batch.map((op) => op.kept));  // sent only once kept on the device
        if (!(await this.send(desk, batch))) break;
      }
    } finally {
      this.sending = false;
    }
  }

  async send(desk, batch) {
    const body = { device: this.device, desk, sent_at: new Date().toISOString(), operations: batch.map((op) => this.wire(op)) };
    let res = await fetchJson(this.url, { method: "POST", body, csrf: this.csrf, timeout: BATCH_TIMEOUT_MS });
    if (res.status === 400 && errorCode(res) === "csrf_failed" && this.refreshCsrf) {
      this.csrf = (await this.refreshCsrf()) || this.csrf;
      res = await fetchJson(this.url, { method: "POST", body, csrf: this.csrf, timeout: BATCH_TIMEOUT_MS });
    }
    const ok = res.status === 200 && res.data && Array.isArray(res.data.results);
    this.onSent(ok, res.status, res);
    if (!ok) return false;
    const answered = new Map(res.data.results.map((r) => [r.id, r]));
    const done = batch.filter((op) => answered.has(op.id));
    await this.store.deleteOps(done.map((op) => op.seq));
    const gone = new Set(done.map((op) => op.id));
    this.ops = this.ops.filter((op) => !gone.has(op.id));
    for (const op of done) await this.onResult(op, answered.get(op.id));
    this.onChange();
    return done.length > 0;
  }
}
