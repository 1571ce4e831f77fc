// Service worker of the check-in page (eventsapp/static/checkin.js), served as
// /organiser/checkin-sw.js for the scope /organiser/sessions/. It answers only requests
// for pages and files the check-in page put into its cache: from the network when there is
// one, else from the cache, so the page opens again at a door without network. Everything
// else goes to the network as usual. The page removes a session's entry after the session.
"use strict";
var CACHE = "eventsapp-checkin";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    caches.open(CACHE).then(function (cache) {
      return cache.match(request, { ignoreSearch: true }).then(function (kept) {
        if (!kept) return fetch(request);
        return fetch(request).then(function (response) {
          // A page is kept again only while its door is open (the server says so).
          var keep = request.mode !== "navigate" || response.headers.get("X-Offline-Copy") === "keep";
          if (response.ok && keep && !new URL(request.url).search) cache.put(request, response.clone());
          return response;
        }, function () {
          return kept;
        });
      });
    })
  );
});
