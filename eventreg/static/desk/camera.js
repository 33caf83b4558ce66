/* The desk's camera: frames of the back camera decoded into pass codes.
 *
 * createScanner({video, onCode, onHint, decoderUrl}) → {start(), stop(), running}. The decoder
 * (jsQR from npm, served from node_modules) is loaded when the camera starts, not with the page.
 * start() rejects with an Error whose .code says why the camera does not run ("denied", "none",
 * "insecure", "decoder"). onCode(text, {at}); onHint("closer") when frames keep containing no
 * code, onHint(null) when one is read.
 */

const EVERY_MS = 120;          // frames decoded per second: ~8
const HINT_AFTER_FRAMES = 25;  // ~3 s of frames without a code

function failure(code) {
  const error = new Error(code);
  error.code = code;
  return error;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.appendChild(script);
  });
}

export function createScanner({ video, onCode, onHint = () => {}, decoderUrl }) {
  const canvas = document.createElement("canvas");
  let stream = null, timer = 0, lock = null, empty = 0;

  function frame() {
    const at = performance.now();
    if (video.readyState < 2 || !video.videoWidth || document.hidden) return;
    const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
    const w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    if (!code || !code.data) {
      empty += 1;
      if (empty === HINT_AFTER_FRAMES) onHint("closer");
      return;
    }
    if (empty >= HINT_AFTER_FRAMES) onHint(null);
    empty = 0;
    onCode(code.data, { at });
  }

  const scanner = {
    get running() { return stream !== null; },
    async start() {
      if (typeof window.jsQR !== "function") {
        try { await loadScript(decoderUrl); } catch (_e) { throw failure("decoder"); }
      }
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw failure(window.isSecureContext ? "none" : "insecure");
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (err) {
        throw failure(err && (err.name === "NotAllowedError" || err.name === "SecurityError") ? "denied" : "none");
      }
      video.srcObject = stream;
      video.play().catch(() => {});
      empty = 0;
      timer = setInterval(frame, EVERY_MS);
      if (navigator.wakeLock) navigator.wakeLock.request("screen").then((l) => { lock = l; }, () => {});
      return "jsqr";
    },
    stop() {
      clearInterval(timer);
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
      video.srcObject = null;
      if (lock) { lock.release().catch(() => {}); lock = null; }
      onHint(null);
    },
  };
  return scanner;
}
