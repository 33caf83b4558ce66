/* The desk's storage at rest: IndexedDB "eventreg-desk", every record of people encrypted.
 *
 * AES-GCM under the roster's store_key (HKDF of the staff session's secret and the event id),
 * imported as a non-extractable CryptoKey and kept in IndexedDB itself: a raw read of the
 * database shows ids, the sync cursor and wipe_after in clear, and nothing else readable.
 * Each record's key path is bound in as additional data, so a record cannot be moved to another.
 *
 * Stores: keys {event, key: CryptoKey, tag}   meta {event, cursor, wipe_after, iv, data}
 *         rows {event, id, iv, data}          queue {event, seq, id, iv, data}
 *         device {name: "device", id, seq}    (this browser's id and the next operation number)
 */

const DB_NAME = "eventreg-desk";
const DB_VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error);
  });
}

function openDatabase() {
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    db.createObjectStore("keys", { keyPath: "event" });
    db.createObjectStore("meta", { keyPath: "event" });
    db.createObjectStore("rows", { keyPath: ["event", "id"] });
    db.createObjectStore("queue", { keyPath: ["event", "seq"] });
    db.createObjectStore("device", { keyPath: "name" });
  };
  return request(req).then((db) => {
    db.onversionchange = () => db.close();  // a sign-out in another tab deletes the database
    return db;
  });
}

function fromBase64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// A tag that tells two keys apart without keeping the key: the first 16 bytes of a hash of it.
async function tagOf(raw) {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array([...encoder.encode("eventreg desk key tag\0"), ...raw]));
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Deletes the whole database (sign-out, wipe_after passed). Resolves even when another tab holds it open. */
export function wipe() {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = req.onerror = () => resolve();
    req.onblocked = () => resolve();  // deleted as soon as the other page closes its connection
  });
}

export class Store {
  constructor(db, eventId) {
    this.db = db;
    this.event = eventId;
    this.key = null;  // CryptoKey, or null: nothing is written until the server gives a key
    this.tag = "";
    this.closed = false;
  }

  static async open(eventId) {
    const store = new Store(await openDatabase(), eventId);
    // A sign-out in another tab deletes the database: stop using it at once (the desk goes on
    // from memory), so no later write meets a closing connection.
    store.db.onversionchange = () => store.forget();
    const found = await request(store.db.transaction("keys").objectStore("keys").get(eventId));
    if (found) { store.key = found.key; store.tag = found.tag; }
    return store;
  }

  /** At sign-out or after a wipe: nothing more is read or written (the desk goes on from
   * memory). Every method checks ``closed`` right before it opens a transaction, because a roster
   * poll or a scan still in flight would otherwise meet the closing connection (an uncaught
   * InvalidStateError, seen in CI's outage test at sign-out). */
  forget() {
    this.closed = true;
    this.key = null;
    this.db.close();
  }

  /** Takes the roster's store_key. Returns the old CryptoKey when the key changed (a new sign-in):
   * the caller then writes everything it holds again under the new one. */
  async useKey(base64url) {
    if (this.closed) return null;
    const raw = fromBase64url(base64url);
    const tag = await tagOf(raw);
    if (tag === this.tag && this.key) return null;
    const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    raw.fill(0);
    if (this.closed) return null;  // wiped while importing
    const old = this.key;
    const tx = this.db.transaction("keys", "readwrite");
    tx.objectStore("keys").put({ event: this.event, key, tag });
    await done(tx);
    this.key = key;
    this.tag = tag;
    return old || null;
  }

  async seal(value, where) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(where) },
                                             this.key, encoder.encode(JSON.stringify(value)));
    return { iv, data };
  }

  async open(record, where, key) {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv, additionalData: encoder.encode(where) },
                                              key || this.key, record.data);
    return JSON.parse(decoder.decode(plain));
  }

  /** Everything kept for this event, decrypted: {meta, rows, queue} (queue in seq order).
   * Records that do not decrypt (a key lost with its session) are left out and counted. */
  async load() {
    const out = { meta: null, cursor: null, wipeAfter: null, rows: [], queue: [], unreadable: 0 };
    if (this.closed) return out;
    const tx = this.db.transaction(["meta", "rows", "queue"]);
    const range = IDBKeyRange.bound([this.event, -Infinity], [this.event, Infinity]);
    const [metaRecord, rowRecords, queueRecords] = await Promise.all([
      request(tx.objectStore("meta").get(this.event)),
      request(tx.objectStore("rows").getAll(range)),
      request(tx.objectStore("queue").getAll(range)),
    ]);
    if (metaRecord) { out.cursor = metaRecord.cursor; out.wipeAfter = metaRecord.wipe_after; }
    if (!this.key) { out.unreadable = rowRecords.length + queueRecords.length; return out; }
    const attempt = (p) => p.catch(() => { out.unreadable += 1; return null; });
    const [meta, rows, queue] = await Promise.all([
      metaRecord ? attempt(this.open(metaRecord, `meta:${this.event}`)) : null,
      Promise.all(rowRecords.map((r) => attempt(this.open(r, `rows:${this.event}:${r.id}`)))),
      Promise.all(queueRecords.map((r) => attempt(this.open(r, `queue:${this.event}:${r.seq}`)))),
    ]);
    out.meta = meta;
    out.rows = rows.filter(Boolean);
    out.queue = queue.filter(Boolean);
    return out;
  }

  /** The roster's state: meta (sealed), cursor and wipe_after (clear), and rows; ``replace``
   * drops the rows not given (a full roster). */
  async saveRoster({ meta, cursor, wipeAfter, rows, replace }) {
    if (!this.key || this.closed) return;
    const sealedMeta = await this.seal(meta, `meta:${this.event}`);
    const sealedRows = await Promise.all(rows.map(async (row) => (
      { event: this.event, id: row.id, ...(await this.seal(row, `rows:${this.event}:${row.id}`)) })));
    if (this.closed) return;  // wiped while sealing
    const tx = this.db.transaction(["meta", "rows"], "readwrite");
    const rowStore = tx.objectStore("rows");
    if (replace) rowStore.delete(IDBKeyRange.bound([this.event, -Infinity], [this.event, Infinity]));
    tx.objectStore("meta").put({ event: this.event, cursor, wipe_after: wipeAfter, ...sealedMeta });
    sealedRows.forEach((record) => rowStore.put(record));
    await done(tx);
  }

  async putRows(rows) {
    if (!this.key || this.closed || !rows.length) return;
    const sealed = await Promise.all(rows.map(async (row) => (
      { event: this.event, id: row.id, ...(await this.seal(row, `rows:${this.event}:${row.id}`)) })));
    if (this.closed) return;  // wiped while sealing
    const tx = this.db.transaction("rows", "readwrite");
    sealed.forEach((record) => tx.objectStore("rows").put(record));
    await done(tx);
  }

  /** Queued operations: {seq, id, ...} sealed; seq and the client id stay in clear. The
   * device's last seq (``device()`` gives the record) is written in the same transaction, so a
   * number is never used twice. */
  async putOps(ops, device) {
    if (!this.key) throw new Error("no store key yet");
    const sealed = await Promise.all(ops.map(async (op) => {
      const { kept: _kept, keepError: _error, ...plain } = op;
      return { event: this.event, seq: op.seq, id: op.id, ...(await this.seal(plain, `queue:${this.event}:${op.seq}`)) };
    }));
    if (this.closed) throw new Error("the device's store was wiped");  // kept in memory by the caller
    const tx = this.db.transaction(["queue", "device"], "readwrite");
    sealed.forEach((record) => tx.objectStore("queue").put(record));
    tx.objectStore("device").put(device());  // read now: the highest number handed out so far
    await done(tx);
  }

  async deleteOps(seqs) {
    if (this.closed || !seqs.length) return;
    const tx = this.db.transaction("queue", "readwrite");
    seqs.forEach((seq) => tx.objectStore("queue").delete([this.event, seq]));
    await done(tx);
  }

  /** This browser's id and the last operation number used: {name, id, seq}. */
  async device() {
    const found = this.closed ? null : await request(this.db.transaction("device").objectStore("device").get("device"));
    if (found) return found;
    const made = { name: "device", id: crypto.randomUUID(), seq: 0 };
    if (this.closed) return made;  // wiped: numbers are kept in memory only
    const tx = this.db.transaction("device", "readwrite");
    tx.objectStore("device").put(made);
    await done(tx);
    return made;
  }
}
