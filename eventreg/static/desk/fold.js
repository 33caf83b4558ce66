/* The one search on the device: domain.people.search.fold and words, and the desk's search
 * (domain.reception.desk_search.find), for a desk that searches its copy of the roster offline.
 *
 * The rules are written once, in Python. This module only interprets the tables the roster sync
 * sends (`roster.fold`, made by domain.people.search.tables() from the Python rules themselves),
 * so a change of a rule reaches the devices with the next sync, and the parity test
 * (tests/browser/test_desk_fold.py) runs the same queries through both and fails when they differ.
 *
 * Python's fold: NFKC; controls, format, private-use and unassigned characters and variation
 * selectors dropped; trimmed; case-folded; hiragana as katakana; 異体字 as their common form.
 * Here: characters Python's Unicode does not know are replaced by U+FFFF (unassigned there too, a
 * starter that blocks composition like any unknown character) before the browser's NFKC, whose
 * results Unicode keeps stable for every character Python's version has; casefold is the
 * browser's toLowerCase except where the table says Python's casefold differs.
 */

const UNKNOWN = "\uffff";
const prepared = new WeakMap();

function runs(flat) {
  // [start, length, gap, length, ...] (domain.people.search._ranges) -> sorted [start, end) pairs
  const starts = [];
  const ends = [];
  let end = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const start = end + flat[i];
    end = start + flat[i + 1];
    starts.push(start);
    ends.push(end);
  }
  return { starts, ends };
}

function within(set, codePoint) {
  let low = 0;
  let high = set.starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (set.starts[middle] > codePoint) high = middle - 1;
    else if (set.ends[middle] <= codePoint) low = middle + 1;
    else return true;
  }
  return false;
}

function prepare(tables) {
  if (!tables || !Array.isArray(tables.refused)) throw new TypeError("fold.js needs the roster's fold tables (the roster answer's `fold`) as its second argument");
  let t = prepared.get(tables);
  if (!t) {
    t = {
      refused: runs(tables.refused),
      selectors: runs(tables.selectors),
      spaces: new Set(Array.from(tables.spaces)),
      casefold: new Map(Object.entries(tables.casefold)),
      kana: new Map(Object.entries(tables.kana)),
      itaiji: new Map(Object.entries(tables.itaiji)),
      maxQuery: tables.max_query,
      maxWords: tables.max_words,
    };
    prepared.set(tables, t);
  }
  return t;
}

function nfkc(text, t) {
  let marked = "";
  for (const ch of text) marked += within(t.refused, ch.codePointAt(0)) ? UNKNOWN : ch;
  return marked.normalize("NFKC");
}

function trimmed(chars, t) {
  let start = 0;
  let end = chars.length;
  while (start < end && t.spaces.has(chars[start])) start += 1;
  while (end > start && t.spaces.has(chars[end - 1])) end -= 1;
  return chars.slice(start, end);
}

/** The form in which stored text and typed text are compared (Python: search.fold). */
export function fold(text, tables) {
  const t = prepare(tables);
  const kept = [];
  for (const ch of nfkc(typeof text === "string" ? text : "", t)) {
    const codePoint = ch.codePointAt(0);
    if (!within(t.refused, codePoint) && !within(t.selectors, codePoint)) kept.push(ch);
  }
  let out = "";
  for (const ch of trimmed(kept, t)) {
    for (const lower of t.casefold.get(ch) ?? ch.toLowerCase()) {
      for (const kana of t.kana.get(lower) ?? lower) out += t.itaiji.get(kana) ?? kana;
    }
  }
  return out;
}

/** The folded words of a query: at most max_words, from its first max_query characters (Python: search.words). */
export function words(query, tables) {
  const t = prepare(tables);
  const head = Array.from(typeof query === "string" ? query : "").slice(0, t.maxQuery).join("");
  const found = [];
  let word = "";
  for (const ch of fold(head, tables)) {
    if (t.spaces.has(ch)) {
      if (word) found.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word) found.push(word);
  return found.slice(0, t.maxWords);
}

/** Whether a row's search text (roster row `search`) holds every word. Words are matched literally. */
export function matches(search, queryWords) {
  return queryWords.every((word) => search.includes(word));
}

/** A name as the walk-in form stores it (Python: text.clean_name's normalisation: NFKC, spaces
 * collapsed and trimmed, variation selectors dropped), to find the same walk-in on the device;
 * null for text the form refuses outright (control or unknown characters, U+FFFD). */
export function cleanName(text, tables) {
  const t = prepare(tables);
  const raw = typeof text === "string" ? text : "";
  const refused = (value) => Array.from(value).some((ch) => within(t.refused, ch.codePointAt(0)));
  if (refused(raw)) return null;
  const value = raw.normalize("NFKC");
  if (value.includes("\ufffd") || refused(value)) return null;
  const collapsed = [];
  for (const ch of value) {
    if (!t.spaces.has(ch)) collapsed.push(ch);
    else if (collapsed.length && collapsed[collapsed.length - 1] !== " ") collapsed.push(" ");
  }
  return trimmed(collapsed, t).filter((ch) => !within(t.selectors, ch.codePointAt(0))).join("");
}

// UTF-16 code units compared in code point order (what PostgreSQL's "C" collation and SQLite do
// with sort keys): surrogates sort above U+E000..U+FFFF.
function unit(u) {
  if (u >= 0xe000) return u - 0x800;
  if (u >= 0xd800) return u + 0x2000;
  return u;
}

/** Sort keys compared as the server compares them (by code point). */
export function compareKeys(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unit(x) - unit(y);
  }
  return a.length - b.length;
}

/** Roster rows in the server's order: 五十音 (sort_key), then id. */
export function compareRows(a, b) {
  return compareKeys(a.sort_key, b.sort_key) || a.id - b.id;
}

/** The desk's search on the device (Python: desk_search.find): active rows whose search text holds
 * every word of `query`, optionally only a session and a 五十音 row (roster `kana_rows[row]`), in
 * the server's order, at most `limit`. */
export function find(rows, query, tables, { kanaRow = null, sessionId = null, limit = 30 } = {}) {
  const queryWords = words(query, tables);
  return rows
    .filter((r) => r.status !== "cancelled" && matches(r.search, queryWords)
      && (sessionId === null || r.session_id === sessionId)
      && (!kanaRow || (compareKeys(r.sort_key, kanaRow[0]) >= 0 && compareKeys(r.sort_key, kanaRow[1]) < 0)))
    .sort(compareRows)
    .slice(0, limit);
}
