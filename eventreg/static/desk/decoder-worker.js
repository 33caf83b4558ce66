/* The camera's QR decoder off the page's thread (module worker, started by camera.js).
 *
 * zxing-wasm's reader build (ZXing-C++ compiled to WebAssembly, npm, served by web/desk_vendor.py):
 * its .wasm is loaded from our server, never from the CDN the package defaults to (locateFile).
 * This file's response alone carries script-src 'wasm-unsafe-eval' (web/security.py): the desk
 * page itself keeps the strict policy.
 *
 * Messages in:  {type: "init", module, wasm}            URLs of the reader module and its .wasm
 *               {type: "frame", id, at, width, height, buffer}   RGBA pixels (the buffer is transferred)
 * Messages out: {type: "ready"} | {type: "failed", error}
 *               {type: "result", id, at, text: string|null, ms, buffer}   the buffer comes back for reuse
 */

const OPTIONS = {
  formats: ["QRCode"],
  tryHarder: true,     // a rotated, small code at arm's length: accuracy first, still ~2-7 ms a frame
  tryRotate: false,    // 90/180/270° turns are for linear codes; a QR finds its own orientation
  tryInvert: false,    // passes are dark on light
  tryDownscale: true,  // a phone camera's 1280x720 frame: look at a smaller copy too
  maxNumberOfSymbols: 1,
  textMode: "Plain",
};

let reader = null;

async function init(message) {
  try {
    const zxing = await import(message.module);
    await zxing.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? message.wasm : prefix + path) },
      fireImmediately: true,
    });
    reader = zxing;
    self.postMessage({ type: "ready" });
  } catch (error) {
    self.postMessage({ type: "failed", error: String(error && error.message || error) });
  }
}

async function decode(message) {
  const started = performance.now();
  let text = null;
  try {
    const image = new ImageData(new Uint8ClampedArray(message.buffer), message.width, message.height);
    const found = await reader.readBarcodes(image, OPTIONS);
    if (found.length && found[0].text) text = found[0].text;
  } catch (error) {
    text = null;  // one unreadable frame is not a failure: the next one comes in 100 ms
  }
  self.postMessage({ type: "result", id: message.id, at: message.at, text, ms: performance.now() - started,
                     buffer: message.buffer }, [message.buffer]);
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "init") init(message);
  else if (message.type === "frame") decode(message);
};
