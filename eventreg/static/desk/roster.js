/* The event's roster on the device: what the desk decides and searches with, without the server.
 *
 * Loaded once from IndexedDB (decrypted once, kept in memory), then kept fresh from
 * GET …/roster: the whole roster first, then deltas every ~2 s while the server answers (so a
 * pass scanned at another desk is known here within 3 s), with back-off while it does not.
 * A delta whose row count disagrees with the server's total starts a full sync again.
 * Search follows the server's one search: fold.js interprets the tables the server exported.
 */

import { fetchJson, TIMEOUT_MS } from "./net.js";
import { cleanName, find } from "./fold.js";

export const SYNC_EVERY_MS = 2000;
const RETRY_MS = [1000, 1000, 2000];  // while unreachable: soon again, never slower than 2 s
const FULL_TIMEOUT_MS = 20000;        // a first roster of thousands of people may take a while
const PROBE_TIMEOUT_MS = 1500;        // asking whether the server is back
const SEARCH_LIMIT = 30;              // as the server's desk search

export class Roster {
  constructor({ url, store, onChange, onReachable, onWipe }) {
    this.url = url;
    this.store = store;
    this.onChange = onChange;        // (why: "load" | "sync" | "row") after rows or meta changed
    this.onReachable = onReachable;  // (bool, status) after every attempt
    this.onWipe = onWipe;            // wipe_after passed: the page deletes what is stored
    this.rows = new Map();           // id → the server's row
    this.byEntry = new Map();        // entry_id → id
    this.meta = null;                // event, key, sessions, result_of_status, fold, kana_rows, conflicts, tasks, counts
    this.cursor = null;
    this.wipeAfter = null;
    this.reachable = null;           // unknown until the first answer
    this.lastStatus = 0;
    this.failures = 0;
    this.timer = 0;
    this.running = false;
    this.keyChanged = null;          // set by the page: (oldKey) → re-seal what it holds
  }

  get ready() { return this.meta !== null; }

  /** What IndexedDB holds (see store.js load). */
  adopt(saved) {
    this.cursor = saved.cursor;
    this.wipeAfter = saved.wipeAfter;
    if (saved.meta) this.meta = saved.meta;
    saved.rows.forEach((row) => this.index(row));
    if (saved.unreadable) this.cursor = null;  // start again from a full roster
    if (this.meta) this.onChange("load");
  }

  index(row) {
    const old = this.rows.get(row.id);
    if (old && old.entry_id !== row.entry_id) this.byEntry.delete(old.entry_id);
    this.rows.set(row.id, row);
    if (row.entry_id) this.byEntry.set(row.entry_id, row.id);
  }

  expired(now = Date.now()) {
    return !!this.wipeAfter && Date.parse(this.wipeAfter) < now;
  }

  start() {
    this.running = true;
    this.syncNow();
  }

  /** Asks at once (an `online` event, a batch that went through); coalesces with the timer. */
  syncNow() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
  }

  async tick() {
    if (this.busy) return;
    this.busy = true;
    let next = SYNC_EVERY_MS;
    const started = Date.now();
    try {
      const full = !this.cursor;
      const url = this.url + (full ? "" : "?since=" + encodeURIComponent(this.cursor));
      // While unreachable, a shorter deadline: a server still starting accepts connections and
      // answers nothing, and each probe that waits is time the queue is not drained.
      const timeout = full ? FULL_TIMEOUT_MS : this.reachable === false ? PROBE_TIMEOUT_MS : TIMEOUT_MS;
      const res = await fetchJson(url, { timeout });
      const ok = res.status === 200 && res.data && Array.isArray(res.data.rows);
      this.reachable = ok || (res.status > 0 && res.status < 500 && res.status !== 404);
      this.failures = ok ? 0 : this.failures + 1;
      this.lastStatus = res.status;
      this.onReachable(ok, res.status);
      if (ok) {
        await this.apply(res.data);
        if (!this.cursor) next = 0;  // the count disagreed: the full roster at once
      } else {
        // Counted from when this attempt started: one that waited out its deadline retries at once.
        next = Math.max(0, RETRY_MS[Math.min(this.failures - 1, RETRY_MS.length - 1)] - (Date.now() - started));
      }
    } finally {
      this.busy = false;
      if (this.running) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.tick(), next);
      }
    }
  }

  async apply(data) {
    let rekeyed = false;
    if (data.store_key) {
      // A new sign-in gives a new key: everything held is written again under it.
      rekeyed = !!(await this.store.useKey(data.store_key));
      if (rekeyed && this.keyChanged) await this.keyChanged();
    }
    if (data.full) {
      this.rows.clear();
      this.byEntry.clear();
    }
    data.rows.forEach((row) => this.index(row));
    const { rows: _rows, store_key: _key, cursor: _cursor, full: _full, total: _total, ...meta } = data;
    meta.counts = this.meta ? this.meta.counts : null;
    this.meta = meta;
    this.cursor = data.cursor;
    this.wipeAfter = data.event && data.event.wipe_after;
    if (this.rows.size !== data.total) this.cursor = null;  // a delta cannot say what went: start again
    if (this.expired()) await this.onWipe();  // hours after the event: nothing of it stays on the device
    const whole = data.full || rekeyed;
    await this.save(whole ? [...this.rows.values()] : data.rows, whole);
    this.onChange("sync");
  }

  save(rows, replace) {
    return this.store.saveRoster({ meta: this.meta, cursor: this.cursor, wipeAfter: this.wipeAfter,
                                   rows, replace });
  }

  /** The last counters the server gave (kept with the roster, so an offline reload shows them). */
  async setCounts(counts) {
    if (!this.meta) return;
    this.meta.counts = counts;
    await this.save([], false);
  }

  /** A row the server sent back for an operation (fresher than the last sync). */
  async put(row) {
    this.index(row);
    await this.store.putRows([row]);
    this.onChange("row");
  }

  byRegistration(id) { return this.rows.get(id) || null; }

  byEntryId(entryId) {
    const id = this.byEntry.get(entryId);
    return id === undefined ? null : this.rows.get(id);
  }

  /** People without a pass at hand: the server's one search on the device. Active rows only,
   * optionally one session and one 五十音 row ([low, high) of sort_key), in 五十音 order. */
  search(query, { row = "", sessionId = null, extra = [] } = {}) {
    if (!this.meta) return [];
    const kanaRow = row && this.meta.kana_rows ? this.meta.kana_rows[row] : null;
    return find([...this.rows.values(), ...extra], query, this.meta.fold,
                { kanaRow, sessionId: sessionId || null, limit: SEARCH_LIMIT });
  }

  /** The latest active walk-in with this name (as the server's duplicate check, by name only:
   * the device keeps no email). ``extra``: walk-ins still queued on this device. */
  earlierWalkIn(familyName, givenName, extra = []) {
    const tables = this.meta.fold;
    const family = cleanName(familyName, tables), given = cleanName(givenName, tables);
    let latest = null;
    [...this.rows.values(), ...extra].forEach((r) => {
      if (!r.walk_in || r.status === "cancelled") return;
      if (cleanName(r.family_name, tables) !== family || cleanName(r.given_name, tables) !== given) return;
      if (!latest || (r.checked_in_at || "") > (latest.checked_in_at || "")) latest = r;
    });
    return latest;
  }
}
