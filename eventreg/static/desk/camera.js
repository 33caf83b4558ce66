/* The desk's camera: reads QR passes from a <video> and says when the pass should come closer.
 *
 *   const scanner = createScanner({video, onCode, onHint});
 *   await scanner.start();   // rejects with an Error whose .code is "insecure" | "denied" | "none" | "decoder"
 *   scanner.stop();  scanner.running;  scanner.engine   // "native" | "zxing-wasm" | null
 *
 * onCode(text, {at, engine}) is called once when a code comes into view (`at` is the
 * performance.now() of the frame that held it, for the desk's verdict timing); a code held in
 * view is not repeated until it has been out of view for REARM_MS or another code was read.
 * onHint("closer") after HINT_MS of frames without a code; onHint(null) when a code is read or
 * the camera stops.
 *
 * Which decoder, measured in this repository's Chromium on 640x480 frames (a whole A4 pass page at
 * 150 dpi turned 10°, and a 390-px phone screen of the pass page; median of 10-20 decodes, 2 cores;
 * docs/benchmarks.md "Desk camera"):
 *
 *   decoder                             bytes (gzip)                 ER2 A4 (v8)   v3 A4    v3 phone   no code
 *   jsQR 1.4.0 (what the desk had)      256,885 (56,970)             MISSED        13 ms    13 ms      7-16 ms
 *   qr-scanner 1.4.2 worker (jsQR fork)  43,994 (10,165)             31 ms         14 ms    13 ms      26 ms
 *   zxing-wasm 3.1.8 reader              54,627 JS + 946,307 wasm    6-13 ms       2 ms     2 ms       3-6 ms
 *                                        (16,071 + 411,122)
 *
 * zxing-wasm is 5-10x faster per frame and reads codes jsQR misses (a small, turned symbol), so a
 * pass held at arm's length is read in the first frames; its wasm is big, but it is loaded only
 * when a camera starts (a USB-scanner desk never downloads it), once (versioned URL, cached for a
 * year and by the service worker), and decoding runs in a module worker so the page never waits
 * for a frame. qr-scanner is smaller but no faster than jsQR, and builds its worker from a blob:
 * URL, which our worker-src 'self' forbids. BarcodeDetector (Chrome on Android and macOS, Safari
 * 17+ ... not Chromium on Linux or Windows) is preferred wherever it lists qr_code: no download at
 * all, and the platform's decoder.
 */

import { vendorUrl } from "./vendor.js";

const FRAME_EVERY_MS = 100;   // ~10 frames a second: a pass is read within a few frames
const HINT_MS = 2000;         // no code for this long: ask to hold the pass closer
const REARM_MS = 1500;        // a code out of view this long counts as new when it returns
const MAX_SIDE = 1280;        // frames larger than this are scaled down before decoding

function decoderUrls() {
  return { module: vendorUrl("zxing-wasm/dist/es/reader/index.js"),
           wasm: vendorUrl("zxing-wasm/dist/reader/zxing_reader.wasm") };
}

async function nativeDetector() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  } catch (error) {
    return null;
  }
}

function failure(code, cause) {
  const error = new Error(code);
  error.code = code;
  error.cause = cause;
  return error;
}

// The zxing-wasm worker, started at the first camera start and kept for the page's life.
let workerReady = null;
function zxingWorker(urls) {
  if (!workerReady) {
    workerReady = new Promise((resolve, reject) => {
      if (!urls) { reject(failure("decoder")); return; }
      const worker = new Worker(new URL("./decoder-worker.js", import.meta.url), { type: "module" });
      worker.addEventListener("message", function ready(event) {
        if (event.data.type === "ready") { worker.removeEventListener("message", ready); resolve(worker); }
        else if (event.data.type === "failed") { worker.terminate(); reject(failure("decoder", event.data.error)); }
      });
      worker.addEventListener("error", (event) => reject(failure("decoder", event.message)));
      worker.postMessage({ type: "init", module: urls.module, wasm: urls.wasm });
    });
    workerReady.catch(() => { workerReady = null; });  // a later start may try again
  }
  return workerReady;
}

export function createScanner({ video, onCode, onHint = () => {}, decoder = null }) {
  let stream = null, timer = 0, lock = null, engine = null, detector = null, worker = null;
  let busy = false, frameId = 0, lastCodeAt = 0, noCodeSince = 0, hinted = false;
  let last = { text: null, seenAt: 0 };
  let canvas = null, spare = null;

  function hint(value) {
    if (hinted === !!value) return;
    hinted = !!value;
    onHint(value);
  }

  function found(text, at) {
    lastCodeAt = at;
    hint(null);
    const again = text === last.text && at - last.seenAt < REARM_MS;
    last = { text, seenAt: at };
    if (!again) onCode(text, { at, engine });
  }

  function nothing(at) {
    if (at - Math.max(lastCodeAt, noCodeSince) >= HINT_MS) hint("closer");
  }

  function pixels() {
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
    if (!canvas) canvas = document.createElement("canvas");
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; spare = null; }
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    const image = context.getImageData(0, 0, width, height);
    return { width, height, data: image.data };
  }

  function onResult(event) {
    const message = event.data;
    if (message.type !== "result" || message.id !== frameId) return;
    busy = false;
    spare = message.buffer;
    if (!stream) return;
    if (message.text) found(message.text, message.at); else nothing(performance.now());
  }

  async function tick() {
    if (busy || !stream || document.hidden || video.readyState < 2 || !video.videoWidth) return;
    busy = true;
    const at = performance.now();
    if (detector) {
      try {
        const codes = await detector.detect(video);
        if (!stream) return;
        const code = codes.find((c) => c.rawValue);
        if (code) found(code.rawValue, at); else nothing(at);
      } catch (error) {
        nothing(at);
      } finally {
        busy = false;
      }
      return;
    }
    const { width, height, data } = pixels();
    let buffer = spare && spare.byteLength === data.byteLength ? spare : null;
    if (buffer) new Uint8ClampedArray(buffer).set(data); else buffer = data.buffer;
    spare = null;
    frameId += 1;
    worker.postMessage({ type: "frame", id: frameId, width, height, buffer, at }, [buffer]);
  }

  async function start() {
    if (stream) return engine;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw failure(window.isSecureContext ? "none" : "insecure");
    }
    detector = await nativeDetector();
    if (!detector) {
      worker = await zxingWorker(decoder || decoderUrls());
      worker.removeEventListener("message", onResult);
      worker.addEventListener("message", onResult);
    }
    engine = detector ? "native" : "zxing-wasm";
    let media;
    try {
      media = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    } catch (error) {
      const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      throw failure(denied ? "denied" : "none", error);
    }
    stream = media;
    video.srcObject = stream;
    video.play().catch(() => {});
    busy = false;
    noCodeSince = performance.now();
    lastCodeAt = 0;
    last = { text: null, seenAt: 0 };
    timer = setInterval(tick, FRAME_EVERY_MS);
    if (navigator.wakeLock) navigator.wakeLock.request("screen").then((l) => { lock = l; }, () => {});
    return engine;
  }

  function stop() {
    clearInterval(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    busy = false;
    if (lock) { lock.release().catch(() => {}); lock = null; }
    hint(null);
  }

  return {
    start,
    stop,
    get running() { return stream !== null; },
    get engine() { return engine; },
  };
}
