// The check-in page at the door (templates/organiser/checkin.html), made to work offline.
//
// The page works without this script (forms). With it, the session's list is kept on the
// device (localStorage), check-ins by code, camera or name are recorded there at once and
// sent to the server when the network allows (POST …/checkin/sync), idempotently: the same
// person checked in twice, or on two devices, counts once and keeps the earliest time. A
// service worker keeps the page and this script, so the page also opens without network.
// The list is removed from the device some hours after the session's end.
(function () {
  "use strict";
  var root = document.getElementById("checkin");
  if (!root || !window.localStorage || !window.JSON) return;

  var texts = JSON.parse(document.getElementById("checkin-texts").textContent);
  var sessionId = root.dataset.session;
  var KEY = "eventsapp-checkin-" + sessionId;
  var INDEX = "eventsapp-checkin-sessions";
  var doorOpen = root.dataset.open === "yes";
  var state = null;
  var syncing = false;
  var listed = Promise.resolve();  // the server's list, asked for when the page opens

  function read(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
  }
  function save() {
    localStorage.setItem(KEY, JSON.stringify(state));
    var index = read(INDEX) || {};
    index[sessionId] = { clearAfter: state.clearAfter, page: root.dataset.pageUrl };
    localStorage.setItem(INDEX, JSON.stringify(index));
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }
  function person(id) {
    for (var i = 0; i < state.people.length; i++) if (state.people[i].id === id) return state.people[i];
    return null;
  }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }

  // --- forget lists of sessions that are over (also other sessions' lists) ---------------
  function forgetFinished() {
    var index = read(INDEX) || {};
    var now = Date.now();
    Object.keys(index).forEach(function (id) {
      if (new Date(index[id].clearAfter).getTime() < now) {
        localStorage.removeItem("eventsapp-checkin-" + id);
        if (window.caches) caches.open("eventsapp-checkin").then(function (cache) { cache.delete(index[id].page); });
        delete index[id];
      }
    });
    localStorage.setItem(INDEX, JSON.stringify(index));
  }
  var known = read(INDEX) || {};
  if (known[sessionId]) {
    known[sessionId].clearAfter = root.dataset.clearAfter;  // the server's word (a moved date)
    localStorage.setItem(INDEX, JSON.stringify(known));
  }
  forgetFinished();
  if (new Date(root.dataset.clearAfter).getTime() < Date.now()) return;
  state = read(KEY) || { people: [], queue: [], csrf: null, clearAfter: root.dataset.clearAfter };

  // --- what the page shows -----------------------------------------------------------------
  var connection = document.getElementById("connection");
  var result = document.getElementById("door-result");
  var count = document.getElementById("present-count");

  function showConnection() {
    var waiting = state.queue.length;
    var parts = [navigator.onLine ? (waiting ? "" : texts.online) : texts.offline];
    if (waiting) parts.push(texts.waiting.replace("7654321", waiting));
    connection.hidden = false;
    connection.textContent = parts.filter(Boolean).join(" ");
    connection.className = "connection " + (navigator.onLine ? "connection-online" : "connection-offline");
  }
  function showResult(kind, message) {
    if (!result) return;
    result.hidden = false;
    result.innerHTML = "";
    var p = document.createElement("p");
    p.className = "flash flash-" + kind;
    p.textContent = message;
    result.appendChild(p);
    result.focus();
  }
  function showPeople() {
    var present = 0;
    state.people.forEach(function (entry) {
      if (entry.at) present++;
      var item = document.getElementById("r" + entry.id);
      if (!item) return;
      item.classList.toggle("present", !!entry.at);
      var mark = item.querySelector(".present-mark");
      if (mark && entry.at) {
        mark.hidden = false;
        mark.textContent = "✓ " + texts.presentWord + " " + fill(texts.presentSince, { time: clock(entry.at) });
      }
      var button = item.querySelector(".checkin-button");
      if (button) button.closest("form").hidden = !!entry.at;
    });
    if (state.people.length) {
      count.textContent = texts.present.replace("1234567", present).replace("7654321", state.people.length);
    }
    showConnection();
  }

  // --- checking in -------------------------------------------------------------------------
  function checkIn(id) {
    var entry = person(id);
    if (!entry) return showResult("unknown", texts.unknown);
    if (entry.at) {
      showResult("already", fill(texts.already, { time: clock(entry.at), name: entry.name }));
      return;
    }
    entry.at = new Date().toISOString();
    state.queue.push({ id: id, at: entry.at });
    save();
    showPeople();
    showResult("ok", fill(texts.checkedIn, { name: entry.name }));
    sync();
  }

  function normalise(text) {
    var code = text.replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
    return /^[0-9A-HJKMNP-TV-Z]{12}$/.test(code) ? code : null;
  }
  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buffer) {
      return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
    });
  }
  // Resolves to false when the device has no list to test the code against (the list has
  // not arrived): then the server decides.
  function checkInCode(text) {
    var code = normalise(text);
    if (!code) return Promise.resolve(showResult("unknown", texts.unknown));
    return Promise.all([listed, sha256("eventsapp-checkin:" + code)]).then(function (found) {
      if (!state.people.length && navigator.onLine) return false;
      for (var i = 0; i < state.people.length; i++) {
        if (state.people[i].code === found[1]) return checkIn(state.people[i].id);
      }
      showResult("unknown", texts.unknown);
    });
  }
  // A code typed into the form or read by the camera.
  function enterCode(form, text) {
    var input = form.querySelector("input[name=code]");
    input.value = text;
    checkInCode(text).then(function (done) {
      if (done === false) form.submit();
      else input.value = "";
    });
  }

  // --- talking to the server ---------------------------------------------------------------
  function adopt(data) {
    var waiting = {};
    state.queue.forEach(function (item) { waiting[item.id] = item.at; });
    state.people = data.people.map(function (entry) {
      // A check-in still waiting to be sent counts here already.
      if (!entry.at && waiting[entry.id]) entry.at = waiting[entry.id];
      return entry;
    });
    state.csrf = data.csrf;
    state.clearAfter = data.clearAfter;
    save();
    showPeople();
  }
  function keepPage() {
    // The page and what it loads, for opening it again without network (checkin-sw.js).
    if (!window.caches) return;
    var assets = Array.prototype.map.call(
      document.querySelectorAll("link[rel=stylesheet], link[rel=icon], script[src]"),
      function (element) { return element.href || element.src; }
    );
    caches.open("eventsapp-checkin").then(function (cache) {
      return cache.addAll([root.dataset.pageUrl].concat(assets));
    }).catch(function () {});
  }
  function load() {
    return fetch(root.dataset.listUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) { adopt(data); keepPage(); })
      .catch(function () { showPeople(); });
  }
  function sync() {
    if (syncing || !state.queue.length || !navigator.onLine || !state.csrf) return Promise.resolve();
    syncing = true;
    var sending = state.queue.slice();
    return fetch(root.dataset.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": state.csrf },
      body: JSON.stringify({ checkins: sending }),
    })
      .then(function (response) {
        if (response.status === 400) return load().then(function () { throw new Error("token"); });
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        state.queue = state.queue.slice(sending.length);
        adopt(data);
      })
      .catch(function () { showConnection(); })
      .then(function () { syncing = false; });
  }

  // --- the page's forms, done here when the script runs --------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "code-form") {
      event.preventDefault();
      enterCode(form, form.querySelector("input[name=code]").value);
      return;
    }
    var attended = form.querySelector("input[name=attended]");
    if (attended && form.closest("#checkin-list")) {
      var id = Number(form.closest("li").dataset.id);
      if (attended.value === "1" && !person(id) && navigator.onLine) return;  // the server does it
      if (attended.value === "1") {
        event.preventDefault();
        checkIn(id);
      } else if (!navigator.onLine) {
        event.preventDefault();
        showResult("unknown", texts.undoOffline);
      }
      return;
    }
    if (form.id === "search-form") {
      event.preventDefault();
      filter(form.querySelector("input[type=search]").value);
    }
  });
  var search = document.getElementById("checkin-q");
  function filter(query) {
    var wanted = query.trim().toLowerCase();
    document.querySelectorAll("#checkin-list li[data-id]").forEach(function (item) {
      item.hidden = wanted !== "" && item.dataset.search.indexOf(wanted) === -1;
    });
  }
  if (search) search.addEventListener("input", function () { filter(search.value); });

  // --- the camera ----------------------------------------------------------------------------
  var scanner = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var stream = null;
  var decoder = null;
  function loadDecoder() {
    if ("BarcodeDetector" in window) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") === -1) throw new Error("no qr");
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return function (source) {
          return detector.detect(source).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
        };
      }).catch(jsQrDecoder);
    }
    return jsQrDecoder();
  }
  function jsQrDecoder() {
    // Served from our own origin (npm's jsqr, see assets/package.json); loaded when needed.
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = root.dataset.decoderUrl;
      script.onload = function () {
        var canvas = document.createElement("canvas");
        var context = canvas.getContext("2d", { willReadFrequently: true });
        resolve(function (source) {
          canvas.width = source.videoWidth;
          canvas.height = source.videoHeight;
          context.drawImage(source, 0, 0);
          var found = window.jsQR(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
          return Promise.resolve(found ? found.data : null);
        });
      };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    document.getElementById("scan-stop").hidden = true;
    document.getElementById("scan-start").hidden = false;
  }
  function scan() {
    if (!stream) return;
    if (video.readyState < 2) return void requestAnimationFrame(scan);
    decoder(video).then(function (text) {
      if (text) {
        stopCamera();
        enterCode(document.getElementById("code-form"), text);
      } else {
        setTimeout(scan, 150);
      }
    }, function () { setTimeout(scan, 300); });
  }
  if (scanner && doorOpen && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    scanner.hidden = false;
    document.getElementById("scan-start").addEventListener("click", function () {
      Promise.all([
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
        decoder ? Promise.resolve(decoder) : loadDecoder(),
      ]).then(function (found) {
        stream = found[0];
        decoder = found[1];
        video.srcObject = stream;
        video.hidden = false;
        document.getElementById("scan-stop").hidden = false;
        document.getElementById("scan-start").hidden = true;
        return video.play().then(scan);
      }).catch(function () {
        stopCamera();
        showResult("unknown", texts.noCamera);
      });
    });
    document.getElementById("scan-stop").addEventListener("click", stopCamera);
  }

  // --- offline and back ------------------------------------------------------------------------
  window.addEventListener("online", function () { showConnection(); sync(); });
  window.addEventListener("offline", showConnection);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.workerUrl, { scope: root.dataset.workerScope }).catch(function () {});
  }
  showPeople();
  if (navigator.onLine) {
    listed = load();
    listed.then(sync);
  }
})();
