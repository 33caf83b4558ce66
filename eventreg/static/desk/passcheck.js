// A scanned pass, read and its signature checked on the device with the event's public key (the
// roster's `key`), so the desk gives a verdict without the server. The format is
// eventreg/domain/registration/passes.py's (its docstring explains the layout); this file is the
// same parse and verify in the browser, and tests/browser/test_passcheck.py feeds both the same
// Python-signed passes.
//
//   readPass(text, key, options) -> null (not a pass at all)
//     | {format: 2|3, registrationId, entryId, entryVersion, eventId, valid}
//   verifierName() -> "webcrypto" | "noble"
//
// Ed25519 in WebCrypto where the browser has it (checked at load with an RFC 8032 test vector,
// not only by name), else @noble/ed25519 (npm, served by web/desk_vendor.py), loaded when first
// needed. options.verifier = "webcrypto" | "noble" picks one (the tests run both).

import { vendorUrl } from "./vendor.js";

const encoder = new TextEncoder();
const V3_CONTEXT = encoder.encode("eventreg pass v3\0");
const ER2_CONTEXT = encoder.encode("eventreg entry pass\0");
const ER2_PREFIX = "ER2:";
const ER2_BYTES = 85; // version 1, event id 4, entry id 12, entry version 4, signature 64
const SIGNATURE = 64;
const V3_MAX_DIGITS = 190;
const UINT32 = 2 ** 32 - 1;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// RFC 8032, section 7.1, test 1: the empty message.
const PROBE_KEY = hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const PROBE_SIGNATURE = hexBytes(
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");

const hasWebcrypto = await webcryptoVerifies();

export function verifierName() {
  return hasWebcrypto ? "webcrypto" : "noble";
}

export async function readPass(text, key, options = {}) {
  const pass = parse(text);
  if (pass === null) return null;
  const { signature, signed, ...fields } = pass;
  const eventId = key ? key.event_id : null;
  const publicKey = key ? base64urlBytes(key.public_key) : null;
  let valid = false;
  if (publicKey !== null && publicKey.length === 32 && isUint32(eventId)) {
    // ER2 carries its event id (and signs it); format 3 signs the desk's event without carrying it.
    const message = pass.format === 3
      ? concat(V3_CONTEXT, uint32s(eventId, pass.registrationId, pass.entryVersion))
      : pass.eventId === eventId ? concat(ER2_CONTEXT, signed) : null;
    if (message !== null) {
      const which = options.verifier || verifierName();
      valid = await (which === "noble" ? verifyNoble : verifyWebcrypto)(signature, message, publicKey, key.public_key);
    }
  }
  return { ...fields, valid };
}

// ---- parsing: the same rules as passes.parse ---------------------------------------------------

function parse(text) {
  const value = String(text ?? "").trim(); // a keyboard-wedge scanner may add a newline
  if (/^3[0-9]+$/.test(value)) return parseV3(value);
  return parseEr2(value.toUpperCase());
}

function parseV3(text) {
  if (text.length < 2 || text.length > V3_MAX_DIGITS) return null;
  const raw = bigintBytes(BigInt(text.slice(1)));
  if (raw[0] !== 1) return null; // the leading 0x01 that keeps the body's leading zero bytes
  const [registrationId, afterId] = readUleb128(raw, 1);
  const [entryVersion, afterVersion] = readUleb128(raw, afterId);
  const signature = raw.subarray(afterVersion);
  if (!isUint32(registrationId) || !isUint32(entryVersion) || signature.length !== SIGNATURE) return null;
  // One pass, one text: a padded uleb128 or a leading zero is not a pass.
  if (v3Text(registrationId, entryVersion, signature) !== text) return null;
  return { format: 3, registrationId, entryId: null, entryVersion, eventId: null, signature, signed: null };
}

function parseEr2(text) {
  if (!text.startsWith(ER2_PREFIX) || text.length > 200) return null;
  const raw = base32Bytes(text.slice(ER2_PREFIX.length));
  if (raw === null || raw.length !== ER2_BYTES || raw[0] !== 2) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    format: 2, registrationId: null, entryId: base64url(raw.subarray(5, 17)),
    entryVersion: view.getUint32(17), eventId: view.getUint32(1),
    signature: raw.subarray(21), signed: raw.subarray(0, 21),
  };
}

function readUleb128(raw, at) {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= raw.length) break;
    const byte = raw[at];
    at += 1;
    value += (byte & 0x7f) * 2 ** shift; // not <<: a uint32 overflows JS's 32-bit signed shifts
    if (!(byte & 0x80)) return [value, at];
  }
  return [-1, at];
}

function uleb128(value) {
  const out = [];
  for (;;) {
    const low = value % 128;
    value = Math.floor(value / 128);
    out.push(value ? low | 0x80 : low);
    if (!value) return out;
  }
}

function v3Text(registrationId, entryVersion, signature) {
  const body = Uint8Array.from([1, ...uleb128(registrationId), ...uleb128(entryVersion), ...signature]);
  return "3" + BigInt("0x" + hex(body)).toString(10);
}

function isUint32(value) {
  return Number.isInteger(value) && value >= 0 && value <= UINT32;
}

// ---- verifying ---------------------------------------------------------------------------------

const importedKeys = new Map(); // public key text -> Promise<CryptoKey>

async function verifyWebcrypto(signature, message, publicKey, keyText) {
  try {
    if (!importedKeys.has(keyText)) {
      importedKeys.set(keyText, crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]));
    }
    return await crypto.subtle.verify({ name: "Ed25519" }, await importedKeys.get(keyText), signature, message);
  } catch {
    return false; // no Ed25519 here, or not a key: nothing is verified
  }
}

let noble = null;

async function verifyNoble(signature, message, publicKey) {
  noble ??= import(vendorUrl("noble-ed25519.js")).catch((error) => {
    noble = null; // not loaded (offline before it was ever cached): try again next time
    throw error;
  });
  const ed = await noble;
  try {
    // zip215: false is RFC 8032's strict check, as OpenSSL (the server) and WebCrypto do.
    return await ed.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

async function webcryptoVerifies() {
  try {
    const key = await crypto.subtle.importKey("raw", PROBE_KEY, { name: "Ed25519" }, false, ["verify"]);
    const empty = new Uint8Array(0);
    const forged = PROBE_SIGNATURE.slice();
    forged[0] ^= 1;
    return (await crypto.subtle.verify({ name: "Ed25519" }, key, PROBE_SIGNATURE, empty))
      && !(await crypto.subtle.verify({ name: "Ed25519" }, key, forged, empty));
  } catch {
    return false;
  }
}

// ---- bytes -------------------------------------------------------------------------------------

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function uint32s(...values) {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => view.setUint32(4 * i, value)); // big-endian, as struct ">III"
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function hexBytes(text) {
  return Uint8Array.from(text.match(/../g) || [], (pair) => parseInt(pair, 16));
}

function bigintBytes(number) {
  const digits = number.toString(16);
  return hexBytes(digits.length % 2 ? "0" + digits : digits);
}

function base32Bytes(text) {
  if (text.length !== 136 || !/^[A-Z2-7]+$/.test(text)) return null; // 85 bytes, no padding
  const out = new Uint8Array(ER2_BYTES);
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (const char of text) {
    buffer = ((buffer << 5) | BASE32.indexOf(char)) & 0x1fff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function base64urlBytes(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const plain = text.replaceAll("-", "+").replaceAll("_", "/");
  try {
    return Uint8Array.from(atob(plain + "=".repeat((4 - (plain.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
