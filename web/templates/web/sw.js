// The service worker of the report form (web/pwa.py serves it at /sw.js).
// It keeps the form page, the outbox page and the static files so that they
// open with no connection. It never touches a POST: the page's outbox
// (web/static/web/outbox.js) sends reports itself and keeps them on the
// device until the server has answered.
"use strict";
const CONFIG = {{ config|safe }};
const PAGES = new Set(CONFIG.pages);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CONFIG.cache);
    await cache.addAll(CONFIG.precache);
    // The pages are signed-in pages: keep them only if they really came
    // (not the sign-in page a redirect would give).
    await Promise.all(CONFIG.pages.map(async (path) => {
      try {
        const response = await fetch(path, { credentials: "same-origin", redirect: "manual" });
        if (response.ok && response.type === "basic") {
          await cache.put(path, response.clone());
          await keepAssetsOf(cache, await response.text());
        }
      } catch (e) { /* offline at install: cached on the next visit */ }
    }));
    await self.skipWaiting();
  })());
});

// The static files a kept page loads (its scripts, style sheets, icons),
// whatever the page's template lists: the page must work offline as a whole.
async function keepAssetsOf(cache, html) {
  const found = new Set();
  const pattern = /\s(?:src|href)="([^"]+)"/g;
  let match;
  while ((match = pattern.exec(html)) !== null) {
    const url = new URL(match[1].replace(/&amp;/g, "&"), self.location.origin);
    if (url.origin === self.location.origin && url.pathname.startsWith(CONFIG.staticPrefix)) found.add(url.pathname);
  }
  await Promise.all([...found].map(async (path) => {
    if (await cache.match(path)) return;
    try {
      const response = await fetch(path);
      if (response.ok) await cache.put(path, response);
    } catch (e) { /* kept the next time the page loads it */ }
  }));
}

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CONFIG.cache) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function pageNetworkFirst(event, path) {
  const cache = await caches.open(CONFIG.cache);
  try {
    const response = await fetch(event.request);
    // Only the page itself: a redirect to the sign-in page must not replace it.
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(path, response.clone());
      const copy = response.clone();
      event.waitUntil(copy.text().then((html) => keepAssetsOf(cache, html)).catch(() => undefined));
    }
    return response;
  } catch (e) {
    const cached = await cache.match(path);
    if (cached) return cached;
    throw e;
  }
}

// Static files: the kept copy at once, refreshed behind it (their URLs carry
// no hash, so a copy kept for ever would go stale).
async function staticStaleWhileRevalidate(event) {
  const cache = await caches.open(CONFIG.cache);
  const cached = await cache.match(event.request, { ignoreSearch: true });
  const refresh = fetch(event.request).then(async (response) => {
    if (response.ok && response.type === "basic") await cache.put(event.request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => undefined));
    return cached;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    // Signing out: the pages kept for this person go with them (the outbox's
    // items carry their owner's name and are shown to them only).
    if (request.method === "POST" && url.pathname === CONFIG.signout) {
      event.waitUntil((async () => {
        const cache = await caches.open(CONFIG.cache);
        await Promise.all(CONFIG.pages.map((path) => cache.delete(path)));
      })());
    }
    return;
  }
  if (PAGES.has(url.pathname)) {
    event.respondWith(pageNetworkFirst(event, url.pathname));
  } else if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(staticStaleWhileRevalidate(event));
  }
});
