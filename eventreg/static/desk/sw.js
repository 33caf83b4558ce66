/* The desk's service worker (served at /desk/sw.js, scope /desk/): the desk page loads with the
 * server stopped.
 *
 * - The desk page of an event (/desk/<id>): network first, with a deadline; a copy is kept of
 *   each page that loaded, and given back when the server does not answer.
 * - Files with a version in their URL (/desk/app/<version>/…, ?v=…, the badge's font faces named
 *   by their hash): cache first; they never change under the same URL.
 * - Other files the page uses (/static/…, a package's file without its version under
 *   /desk/vendor/, the badge fonts' stylesheet): network first, the kept copy when offline.
 * - The API is never answered from a cache: the page itself decides what to do without it.
 * The page puts the files of its shell into the same cache when it loads (main.js), so the
 * first visit is enough; it also sends what it queued itself (no Background Sync here).
 */

const CACHE = "eventreg-desk-shell-v1";
const PAGE_DEADLINE_MS = 3000;
const DESK_PAGE = /^\/desk\/\d+$/;
const VERSIONED = /^\/desk\/app\/|^\/desk\/\d+\/badge-font\//;  // badge faces: ?v= is the hash of their characters
const BADGE_FONTS_CSS = /^\/desk\/\d+\/badge-fonts\.css$/;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("eventreg-desk-shell-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function withDeadline(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("deadline")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function kept(request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(request, { ignoreVary: true }))
    || cache.match(request, { ignoreVary: true, ignoreSearch: true });  // the same desk, another ?desk= name
}

async function networkFirst(request, keep) {
  try {
    const response = await withDeadline(fetch(request), PAGE_DEADLINE_MS);
    if (keep && response.ok && response.type === "basic") {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const copy = await kept(request);
    if (copy) return copy;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const copy = await cache.match(request, { ignoreVary: true });
  if (copy) return copy;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    if (DESK_PAGE.test(url.pathname)) event.respondWith(networkFirst(request, true));
    return;
  }
  if (VERSIONED.test(url.pathname) || url.searchParams.has("v")) {
    event.respondWith(cacheFirst(request));
  } else if (/^\/(static|desk\/vendor)\//.test(url.pathname) || BADGE_FONTS_CSS.test(url.pathname)) {
    event.respondWith(networkFirst(request, true));
  }
});
