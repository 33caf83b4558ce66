/* A name badge printed from the desk page itself: an HTML card of 91 × 55 mm and window.print().
 *
 *   prepareBadges()                      at desk start, online: loads the card's stylesheet, its fonts
 *                                        and the QR encoder, so the service worker has them for later
 *   await printBadge(row, event, passText)   row: a roster row (name, kana, organization, department);
 *                                        event: {title}; passText: the pass's QR text, or null (no QR)
 *
 * Needs no server at print time, so a person checked in offline gets a badge. The names are drawn
 * with the "Eventreg Badge" faces (web/desk_badge.py: the PDF's font chain cut to the event's
 * characters), so 𠮷, 髙 and 﨑 print on a laptop without a Japanese font that has them. The QR is
 * drawn with lean-qr (npm, 7 KB) as SVG rectangles; without a pass text there is none.
 *
 * Also the online path on phones: the old badge page showed the PDF in a frame and called print()
 * on it, and Chrome on Android has no PDF viewer for a frame (the frame offers a download and
 * print() prints the empty page around it). The card prints the same way everywhere.
 *
 * The fonts' stylesheet is named in <script type="application/json" id="desk-badge-config">{"fonts_css"}
 * (templates/reception/_desk_modules.html); lean-qr's URL comes from static/desk/vendor.js.
 */

import { vendorUrl } from "./vendor.js";

const FAMILY = "Eventreg Badge";
const NAME_PT = [26, 22, 19, 16, 14, 12];   // the largest that fits the name column
const CARD_ID = "desk-badge";

let prepared = null;

function config() {
  const element = document.getElementById("desk-badge-config");
  return element ? JSON.parse(element.textContent) : {};
}

function stylesheet(href) {
  const url = href && new URL(href, document.baseURI).href;
  if (!url || [...document.querySelectorAll("link[rel=stylesheet]")].some((l) => l.href === url)) return Promise.resolve();
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = url;
    link.addEventListener("load", resolve);
    link.addEventListener("error", resolve);  // offline and not cached: the card falls back to system fonts
    document.head.append(link);
  });
}

export function prepareBadges() {
  if (!prepared) {
    const urls = config();
    prepared = Promise.all([
      stylesheet(new URL("./badge.css", import.meta.url).href),
      stylesheet(urls.fonts_css),
    ]).then(() => Promise.all([
      // Every face is fetched now, while online (a face is otherwise fetched only when drawn).
      document.fonts.load(`16px "${FAMILY}"`, "あア漢A").catch(() => []),
      ...[...document.fonts].filter((f) => f.family.replace(/"/g, "") === FAMILY).map((f) => f.load().catch(() => null)),
      import(vendorUrl("lean-qr/index.mjs")).catch(() => null),
    ]));
  }
  return prepared;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) node.textContent = text;
  return node;
}

async function qrSvg(text) {
  if (!text) return null;
  let lean;
  try {
    lean = await import(vendorUrl("lean-qr/index.mjs"));
  } catch (error) {
    return null;  // not cached: a badge without its QR is still a badge
  }
  const code = lean.generate(text, { minCorrectionLevel: lean.correction.M });
  const quiet = 4, side = code.size + 2 * quiet, ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${side} ${side}`);
  svg.setAttribute("class", "desk-badge-qr");
  svg.setAttribute("shape-rendering", "crispEdges");
  const path = document.createElementNS(ns, "path");
  let d = "";
  for (let y = 0; y < code.size; y++) {
    for (let x = 0; x < code.size; x++) if (code.get(x, y)) d += `M${x + quiet} ${y + quiet}h1v1h-1z`;
  }
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

function card() {
  let node = document.getElementById(CARD_ID);
  if (!node) {
    node = element("section", "desk-badge");
    node.id = CARD_ID;
    node.setAttribute("aria-hidden", "true");
    document.body.append(node);
  }
  return node;
}

function fitName(node) {
  for (const pt of NAME_PT) {
    node.style.fontSize = `${pt}pt`;
    if (node.scrollWidth <= node.clientWidth + 1 && node.scrollHeight <= node.clientHeight + 1) return;
  }
}

export async function printBadge(row, event, passText) {
  await prepareBadges();
  const node = card();
  const who = element("div", "desk-badge-who");
  const name = element("p", "desk-badge-name", row.name);
  who.append(element("p", "desk-badge-kana", row.kana || ""), name,
             element("p", "desk-badge-org", row.organization || ""),
             element("p", "desk-badge-dept", row.department || ""));
  const qr = await qrSvg(passText);
  node.replaceChildren(element("p", "desk-badge-title", event && event.title), who, ...(qr ? [qr] : []));
  node.classList.toggle("desk-badge-with-qr", !!qr);
  const text = [event && event.title, row.name, row.kana, row.organization, row.department].join("");
  await document.fonts.load(`16px "${FAMILY}"`, text).catch(() => []);
  document.body.classList.add("desk-badge-printing");
  fitName(name);
  window.addEventListener("afterprint", () => document.body.classList.remove("desk-badge-printing"), { once: true });
  window.print();
}
