// The report form's device side (issue 11, item 1). Progressive enhancement:
// without this script the form posts as it always did.
//
// - What is typed is kept on the device (IndexedDB, files as Blobs) as it is
//   typed, and put back when the page opens again, even with no connection
//   (the service worker, /sw.js, keeps the page).
// - Submitting puts the report in the device's outbox with an Idempotency-Key
//   made here, then sends it: at once, when the connection returns, when a
//   page opens, and every half minute. The server files one report per key,
//   so sending an item again (an answer lost on the way) files it once.
// - Each item shows its state: waiting, sent (with its reference), or
//   refused with the server's reasons and an "edit" that puts it back in the form.
// - Online, the monitor sees what the plain form gives: the report's page
//   once the server has filed it (its answer's url). "Save draft" goes the
//   same way with the button's action=draft: filed as a draft at once when
//   online, kept as a draft item when not.
//
// Generic over the form: it keeps every control of form[data-outbox]
// (new FormData(form)), whatever fields the form has.
(function () {
  "use strict";

  var root = document.getElementById("outbox");
  if (!root || !window.indexedDB || !window.fetch || !window.FormData) return;
  var form = document.querySelector("form[data-outbox]");
  // The texts, in the page's language: data-t-waiting="…" -> T.waiting.
  var T = {};
  Object.keys(root.dataset).forEach(function (name) {
    if (/^t[A-Z]/.test(name)) T[name.charAt(1).toLowerCase() + name.slice(2)] = root.dataset[name];
  });
  var USER = root.dataset.user || "";
  var SW_URL = root.dataset.sw;
  var FORM_URL = root.dataset.formUrl;
  var NOT_KEPT = { csrfmiddlewaretoken: true, idempotency_key: true };
  var RETRY_MS = 30000;

  if ("serviceWorker" in navigator && SW_URL) {
    navigator.serviceWorker.register(SW_URL, { scope: "/" }).catch(function () { /* the form works without it */ });
  }

  // --- IndexedDB ------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open("ceasefire-device", 1);
    open.onupgradeneeded = function () {
      var db = open.result;
      if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "id" });
      if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "key" });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });

  function store(name, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        var req = work(tx.objectStore(name));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function get(name, key) { return store(name, "readonly", function (s) { return s.get(key); }); }
  function put(name, value) { return store(name, "readwrite", function (s) { return s.put(value); }); }
  function del(name, key) { return store(name, "readwrite", function (s) { return s.delete(key); }); }
  function all(name) { return store(name, "readonly", function (s) { return s.getAll(); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- What the form holds --------------------------------------------------
  function entriesOf(formData) {
    var out = [];
    formData.forEach(function (value, name) {
      if (NOT_KEPT[name]) return;
      // An empty file input gives a nameless empty file: nothing to keep.
      if (typeof value !== "string" && !value.name && !value.size) return;
      out.push([name, value]);
    });
    return out;
  }

  function fillForm(entries) {
    var byName = {};
    entries.forEach(function (e) { (byName[e[0]] = byName[e[0]] || []).push(e[1]); });
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      var name = el.name;
      if (!name || NOT_KEPT[name] || el.type === "submit" || el.type === "button") return;
      var values = byName[name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.type === "file") {
        var files = values.filter(function (v) { return typeof v !== "string"; });
        if (!files.length || !window.DataTransfer) { el.value = ""; return; }
        var dt = new DataTransfer();
        files.forEach(function (f) { dt.items.add(f instanceof File ? f : new File([f], "file")); });
        el.files = dt.files;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
      } else {
        var i = seen[name] || 0;
        seen[name] = i + 1;
        if (i < values.length && typeof values[i] === "string") el.value = values[i];
        else if (!values.length) el.value = "";
      }
      // Other scripts of the form (a map, say) follow their fields' changes.
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function summaryOf(entries) {
    var text = "";
    entries.forEach(function (e) {
      if (!text && e[0] === "description" && typeof e[1] === "string") text = e[1].trim();
    });
    if (!text) {
      var area = form && form.querySelector("textarea");
      entries.forEach(function (e) {
        if (!text && area && e[0] === area.name && typeof e[1] === "string") text = e[1].trim();
      });
    }
    return text ? (text.length > 80 ? text.slice(0, 79) + "…" : text) : T.untitled;
  }

  // --- The draft on the device ----------------------------------------------
  var draftId = USER + "|" + (FORM_URL || location.pathname);
  var draftKey = newKey();
  var saveTimer = null;

  function saveDraft() {
    window.clearTimeout(saveTimer);
    saveTimer = null;
    return put("drafts", { id: draftId, key: draftKey, user: USER, fields: entriesOf(new FormData(form)),
                           saved: Date.now() });
  }

  function scheduleSave() {
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(saveDraft, 250);
  }

  function restoreDraft() {
    return get("drafts", draftId).then(function (draft) {
      if (!draft) return saveDraft();
      draftKey = draft.key || draftKey;
      var hasValue = draft.fields.some(function (e) { return typeof e[1] !== "string" || e[1] !== ""; });
      if (!hasValue) return;
      fillForm(draft.fields);
      say(T.restored);
    });
  }

  // --- The outbox -------------------------------------------------------------
  var sending = {};

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function send(item, live) {
    if (sending[item.key]) return Promise.resolve({ item: item, busy: true });
    sending[item.key] = true;
    var body = new FormData();
    item.fields.forEach(function (e) {
      if (!NOT_KEPT[e[0]]) body.append(e[0], e[1]);
    });
    body.set("idempotency_key", item.key);
    var request = fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json", "Idempotency-Key": item.key, "X-CSRFToken": csrfToken() }
    });
    return request.then(function (response) {
      if (response.status === 201) {
        return response.json().then(function (answer) {
          item.state = "sent"; item.reference = answer.reference; item.link = answer.url; item.note = "";
          item.sent = Date.now();
          return { item: item, navigate: live ? answer.url : null };
        });
      }
      if (response.status === 400 || response.status === 409 || response.status === 413) {
        if (live && response.status === 400) return { item: item, resubmit: true };
        return response.json().catch(function () { return {}; }).then(function (answer) {
          item.state = "refused";
          item.reasons = answer.reasons || [answer.detail || answer.message ||
                                            (response.status === 413 ? T.tooLarge : String(response.status))];
          return { item: item };
        });
      }
      // Signed out (a redirect to the sign-in page), or the session and its
      // CSRF cookie are gone: kept, and sent once the monitor signs in.
      item.state = "waiting";
      item.note = (response.type === "opaqueredirect" || response.status === 401 || response.status === 403)
        ? "signin" : "server";
      return { item: item };
    }, function () {
      item.state = "waiting"; item.note = "offline";
      return { item: item };
    }).then(function (outcome) {
      delete sending[item.key];
      if (outcome.resubmit) return outcome;
      return put("outbox", outcome.item).then(function () { return outcome; });
    }, function (error) {
      delete sending[item.key];
      throw error;
    });
  }

  function flush() {
    return all("outbox").then(function (items) {
      var waiting = items.filter(function (i) { return i.user === USER && i.state === "waiting"; });
      return Promise.all(waiting.map(function (i) { return send(i, false); }));
    }).then(render, render);
  }

  function onSubmit(event) {
    event.preventDefault();
    // new FormData(form) leaves out the button pressed (its action=draft):
    // set here, one value, whatever copies other scripts added.
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    var item = { key: draftKey, user: USER, url: formUrl(), fields: entriesOf(data),
                 state: "waiting", note: "", created: Date.now() };
    item.title = summaryOf(item.fields);
    window.clearTimeout(saveTimer);
    put("outbox", item)
      .then(function () { return send(item, true); })
      .then(function (outcome) {
        if (outcome.navigate) {
          return del("drafts", draftId).then(function () { location.assign(outcome.navigate); });
        }
        if (outcome.resubmit) {
          // Refused while the monitor is on the form: the server's own page
          // puts each message next to its field, as without this script. The
          // draft stays on the device; the key goes with the form, so a send
          // the server did file is not filed again.
          return del("outbox", item.key).then(saveDraft).then(function () {
            var key = form.querySelector("[name=idempotency_key]");
            if (key) key.value = item.key;
            if (submitter && submitter.name) {
              var hidden = document.createElement("input");
              hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
              form.appendChild(hidden);
            }
            HTMLFormElement.prototype.submit.call(form);
          });
        }
        // Kept in the outbox: the form is free for the next report.
        return del("drafts", draftId).then(function () {
          form.reset();
          draftKey = newKey();
          enableButtons();
          say(outcome.item.state === "refused" ? "" : T.queued);
          render();
          return saveDraft();
        });
      })
      .catch(function (error) { if (window.console) console.error("outbox:", error); enableButtons(); render(); });
  }

  function formUrl() {
    // Not form.action: the form's buttons are named "action", which shadows it.
    var url = new URL(form.getAttribute("action") || "", location.href);
    return url.pathname + url.search;
  }

  function enableButtons() {
    // once.js disables the buttons on submit; the page stays, so they come back.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    }, 0);
  }

  function edit(item) {
    // The refused report goes back into the form with its key: the server
    // filed nothing for it, and the key still guards against a double send.
    var draft = { id: draftId, key: item.key, user: USER, fields: item.fields, saved: Date.now() };
    return put("drafts", draft).then(function () { return del("outbox", item.key); }).then(function () {
      if (form) {
        draftKey = item.key;
        form.reset();
        fillForm(item.fields);
        render();
        form.scrollIntoView();
        var first = form.querySelector(".has-error input, input:not([type=hidden]), select, textarea");
        if (first) first.focus();
      } else {
        location.assign(FORM_URL);
      }
    });
  }

  // --- Showing it ----------------------------------------------------------------
  var status = root.querySelector(".outbox-status");
  var list = root.querySelector(".outbox-list");

  function say(text) { status.textContent = text || ""; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function button(text, onClick, secondary) {
    var b = el("button", "small" + (secondary ? " secondary" : ""), text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  var KEEP_SENT_MS = 7 * 24 * 3600 * 1000;

  function render() {
    return all("outbox").then(function (items) {
      // A sent item stays a week, as a receipt, then leaves the device.
      var old = items.filter(function (i) { return i.state === "sent" && i.sent < Date.now() - KEEP_SENT_MS; });
      old.forEach(function (i) { del("outbox", i.key); });
      items = items.filter(function (i) { return i.user === USER && old.indexOf(i) === -1; })
                   .sort(function (a, b) { return b.created - a.created; });
      root.hidden = false;
      list.textContent = "";
      if (!items.length) {
        list.appendChild(el("li", "outbox-empty muted", T.empty));
        return;
      }
      items.forEach(function (item) {
        var li = el("li", "outbox-item state-" + item.state);
        li.dataset.key = item.key;
        li.dataset.state = item.state;
        li.appendChild(el("p", "outbox-title", item.title));
        var state = el("p", "outbox-state");
        var isDraft = item.fields.some(function (e) { return e[0] === "action" && e[1] === "draft"; });
        if (item.state === "sent") {
          state.appendChild(el("span", "badge ok", T.sent));
          state.appendChild(document.createTextNode(" "));
          var link = el("a", "outbox-reference", item.reference);
          link.href = item.link;
          state.appendChild(link);
        } else if (item.state === "refused") {
          state.appendChild(el("span", "badge bad", T.refused));
        } else {
          state.appendChild(el("span", "badge warn", item.note === "signin" ? T.signin : T.waiting));
        }
        if (isDraft) {
          state.appendChild(document.createTextNode(" "));
          state.appendChild(el("span", "badge info", T.draft));
        }
        li.appendChild(state);
        if (item.state === "refused" && item.reasons && item.reasons.length) {
          var reasons = el("ul", "errorlist outbox-reasons");
          item.reasons.forEach(function (r) { reasons.appendChild(el("li", "", r)); });
          li.appendChild(reasons);
        }
        var actions = el("p", "outbox-actions");
        if (item.state === "waiting") {
          actions.appendChild(button(T.send, function () { send(item, false).then(render, render); }));
        }
        if (item.state === "refused") {
          actions.appendChild(button(T.edit, function () { edit(item); }));
        }
        actions.appendChild(button(T.remove, function () {
          if (item.state === "sent" || window.confirm(T.confirmRemove)) del("outbox", item.key).then(render);
        }, true));
        li.appendChild(actions);
        list.appendChild(li);
      });
    });
  }

  function showConnection() {
    if (!navigator.onLine) say(T.offline);
    else if (status.textContent === T.offline) say("");
  }

  // --- Start -------------------------------------------------------------------
  var ready = form ? restoreDraft() : Promise.resolve();
  if (form) {
    form.addEventListener("input", scheduleSave);
    form.addEventListener("change", scheduleSave);
    form.addEventListener("submit", onSubmit);
    // Typing, then closing or reloading at once: the last keys are kept too.
    window.addEventListener("pagehide", function () { if (saveTimer) saveDraft(); });
  }
  ready.then(render).then(function () {
    showConnection();
    window.addEventListener("online", function () { showConnection(); flush(); });
    window.addEventListener("offline", showConnection);
    window.setInterval(function () { if (navigator.onLine) flush(); }, RETRY_MS);
    return flush();
  }).then(function () {
    root.dataset.ready = "1";
  });
})();
