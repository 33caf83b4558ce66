/* The reception desk (templates/reception/desk.html): camera and USB-scanner check-in, search,
 * walk-ins, live counters. Talks only to the JSON API (/api/v1) with the staff session and the
 * X-CSRFToken header. Server data reaches the page only through textContent, never as HTML. */
(function () {
  "use strict";

  var CFG = JSON.parse(document.getElementById("desk-config").textContent);
  var T = JSON.parse(document.getElementById("desk-i18n").textContent);
  var $ = function (id) { return document.getElementById(id); };

  var COUNTS_EVERY_MS = 3000;
  var RESULT_MS = { good: 6000, bad: 9000, touched: 20000 };
  var GREEN = ["ok", "walk_in"], AMBER = ["already_checked_in"], NEUTRAL = ["undone"];

  var state = { desk: CFG.desk, sessionId: CFG.session_id, busy: false, pendingCode: "",
                row: "", resultTimer: 0, current: null };

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) { return values[key] == null ? "" : String(values[key]); });
  }
  function regUrl(template, id) { return template.replace(String(CFG.reg), String(id)); }

  // ---- API ------------------------------------------------------------------------------------
  function api(method, url, body, scanMethod) {
    var headers = { "Accept": "application/json", "X-CSRFToken": CFG.csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (scanMethod) headers["X-Scan-Method"] = scanMethod;
    return fetch(url, { method: method, headers: headers, credentials: "same-origin",
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        return res.json().catch(function () { return null; })
          .then(function (data) { return { status: res.status, data: data }; });
      }, function () { return { status: 0, data: null }; });
  }

  function problem(res) {
    if (res.status === 0) return T.network;
    if (res.status === 401 || (res.data && res.data.error && res.data.error.code === "csrf_failed")) return T.expired;
    return (res.data && res.data.error && res.data.error.message) || T.error;
  }

  // ---- Sound (WebAudio beeps: one high for ok, two low for a problem) --------------------------
  var audio = null;
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!audio) audio = new Ctx();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }
  function beep(kind) {
    unlockAudio();
    if (!audio) return;
    var notes = kind === "good" ? [[1320, 0, 0.16]] : kind === "amber" ? [[660, 0, 0.14], [660, 0.2, 0.14]]
                                 : [[220, 0, 0.2], [220, 0.28, 0.2]];
    var t0 = audio.currentTime + 0.01;
    notes.forEach(function (n) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = kind === "good" ? "sine" : "square";
      osc.frequency.value = n[0];
      gain.gain.setValueAtTime(0.0001, t0 + n[1]);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + n[1] + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + n[1] + n[2]);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + n[1]);
      osc.stop(t0 + n[1] + n[2] + 0.02);
    });
    if (kind !== "good" && navigator.vibrate) navigator.vibrate([120, 80, 120]);
  }
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("keydown", unlockAudio);

  // ---- The result panel -------------------------------------------------------------------------
  var result = $("result");
  var part = function (name) { return result.querySelector(".result-" + name); };

  function kindOf(code) {
    if (GREEN.indexOf(code) >= 0) return "good";
    if (AMBER.indexOf(code) >= 0) return "amber";
    if (NEUTRAL.indexOf(code) >= 0) return "info";
    return "bad";
  }

  function setText(el, text) { el.textContent = text || ""; el.hidden = !text; }

  function showResult(code, messageText, registration, passText) {
    var kind = kindOf(code), r = registration;
    state.current = { code: code, registration: r, passText: passText || null };
    result.className = "result result-" + kind;
    result.dataset.result = code;
    part("icon").textContent = { good: "✓", amber: "!", info: "↺", bad: "✕" }[kind];
    part("message").textContent = messageText;
    setText(part("when"), code === "already_checked_in" && r && r.checked_in_time
      ? fmt(T.at_by, { time: r.checked_in_time, desk: r.checked_in_desk || "" }) : "");
    setText(part("name"), r && r.name);
    setText(part("kana"), r && r.kana);
    setText(part("org"), r && [r.organization, r.department].filter(Boolean).join(" "));
    setText(part("session"), r && r.session && [r.session.when, r.session.title].filter(Boolean).join(" "));
    $("result-security").hidden = !(r && r.not_on_security_list && kind !== "bad");
    part("hint").hidden = kind !== "bad";
    var confirmed = r && r.status === "confirmed";
    var badge = $("result-badge");
    badge.hidden = !(confirmed && (kind === "good" || kind === "amber"));
    if (!badge.hidden) badge.href = regUrl(CFG.urls.badge, r.id);
    $("result-undo").hidden = !(r && (code === "ok" || code === "already_checked_in") && r.checked_in_at);
    result.hidden = false;
    resetLater(RESULT_MS[kind === "bad" ? "bad" : "good"]);
    beep(kind === "info" ? "amber" : kind);
  }

  function resetLater(ms) {
    clearTimeout(state.resultTimer);
    state.resultTimer = setTimeout(hideResult, ms);
    var bar = part("timer");
    bar.style.animation = "none";
    void bar.offsetWidth;  // restart the shrinking bar
    bar.style.animation = "desk-timer " + ms + "ms linear forwards";
  }

  function hideResult() {
    clearTimeout(state.resultTimer);
    var inside = result.contains(document.activeElement);  // a result button had the focus: back to the scanner
    result.hidden = true;
    state.current = null;
    refocus(inside);
  }

  $("result-next").addEventListener("click", hideResult);

  // Badges print from the page (static/desk/badge.js, an HTML card): no server needed, and no PDF in
  // a frame, which Chrome on Android cannot print. The link's PDF stays for a new tab asked by hand.
  function printFromPage(e, registration, passText) {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    var href = e.currentTarget.href;
    import(CFG.urls.badge_module)
      .then(function (m) { return m.printBadge(registration, { title: CFG.event_title }, passText); })
      .catch(function () { window.open(href, "_blank", "noopener"); });
  }
  $("result-badge").addEventListener("click", function (e) {
    if (state.current && state.current.registration) printFromPage(e, state.current.registration, state.current.passText);
  });
  result.addEventListener("pointerdown", function () { if (!result.hidden) resetLater(RESULT_MS.touched); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !result.hidden) hideResult(); });

  $("result-undo").addEventListener("click", function () {
    var cur = state.current;
    if (!cur || !cur.registration) return;
    this.disabled = true;
    var button = this;
    api("POST", regUrl(CFG.urls.undo, cur.registration.id), { desk: state.desk }).then(function (res) {
      button.disabled = false;
      if (res.status === 200) showResult("undone", res.data.message, res.data.registration);
      else showResult("error", problem(res), cur.registration);
      afterChange();
    });
  });

  // ---- Scanning: camera and keyboard (USB/Bluetooth scanners type the code and Enter) ----------
  function submitPayload(payload, method) {
    payload = (payload || "").trim();
    if (!payload || state.busy) return;
    state.busy = true;
    var body = { payload: payload, session_id: state.sessionId, desk: state.desk };
    api("POST", CFG.urls.scan, body, method).then(function (res) {
      state.busy = false;
      if (res.status === 200 && res.data) showResult(res.data.result, res.data.message, res.data.registration, payload);
      else showResult("error", problem(res), null);
      afterChange();
      var next = state.pendingCode;  // a pass the camera read while this one was on its way
      state.pendingCode = "";
      if (next && next !== payload) submitPayload(next, "camera");
    });
  }

  var scanInput = $("scan-input");
  scanInput.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    e.preventDefault();
    var value = scanInput.value;
    scanInput.value = "";
    submitPayload(value, "keyboard");
  });

  // The scanner's input has the focus whenever nothing else does. Focus that Tab moved to a button
  // stays there (keyboard users reach the camera and the result's buttons); a tap on a button gives
  // it back to the scanner; and a code typed while a button has the focus still goes to the scanner.
  function typingElsewhere() {
    var el = document.activeElement;
    return el && el !== scanInput && el.matches("input, select, textarea, [contenteditable]");
  }
  function focusNowhere() {
    var el = document.activeElement;
    return !el || el === document.body || el === document.documentElement;
  }
  function refocus(force) {
    if (force === true ? !typingElsewhere() : focusNowhere()) scanInput.focus({ preventScroll: true });
  }
  scanInput.addEventListener("blur", function () { setTimeout(refocus, 200); });
  document.addEventListener("click", function (e) {
    if (e.detail === 0) return;  // Enter or Space on a button: the keyboard user's focus stays put
    if (!e.target.closest("input, select, textarea, label, summary, #walkin-form")) setTimeout(function () { refocus(true); }, 0);
  });
  window.addEventListener("focus", function () { setTimeout(refocus, 0); });
  document.addEventListener("keydown", function (e) {
    // A USB scanner types printable characters (never a space): they go to the scanner's input.
    if (e.key.length === 1 && e.key !== " " && !e.ctrlKey && !e.metaKey && !e.altKey &&
        document.activeElement !== scanInput && !typingElsewhere()) {
      scanInput.focus({ preventScroll: true });
    }
  }, true);
  function resultActions() {
    return ["result-badge", "result-undo", "result-next"].map($).filter(function (el) { return !el.hidden; });
  }
  scanInput.addEventListener("keydown", function (e) {
    if (e.key !== "Tab" || e.shiftKey || result.hidden) return;
    e.preventDefault();  // the result covers the page: Tab goes to its buttons first
    resultActions()[0].focus();
  });
  result.addEventListener("keydown", function (e) {
    if (e.key === "Tab" && e.shiftKey && document.activeElement === resultActions()[0]) {
      e.preventDefault();
      scanInput.focus({ preventScroll: true });
    }
  });

  // Camera: static/desk/camera.js (BarcodeDetector, else zxing-wasm in a worker), imported when a
  // camera starts, so a USB-scanner desk never downloads a decoder.
  var scanner = null;
  var video = $("camera-video"), camStatus = $("camera-status"), camButton = $("camera-toggle");
  var CAMERA_PROBLEMS = { insecure: T.camera_insecure, denied: T.camera_denied, none: T.camera_none, decoder: T.decoder_missing };

  function setCamera(on, note) {
    camButton.setAttribute("aria-pressed", on ? "true" : "false");
    $("camera").hidden = !on;
    camStatus.textContent = note || "";
    camStatus.className = "camera-status" + (note && !on ? " camera-problem" : "");
  }

  function onCode(text) {
    if (state.busy) state.pendingCode = text;  // camera.js reports a pass once while it stays in view
    else submitPayload(text, "camera");
  }

  function startCamera() {
    import(CFG.urls.camera).then(function (camera) {
      scanner = scanner || camera.createScanner({ video: video, onCode: onCode, onHint: function (hint) {
        camStatus.textContent = hint === "closer" ? T.camera_closer : T.camera_on;
      } });
      return scanner.start();
    }).then(function () { setCamera(true, T.camera_on); }, function (error) {
      setCamera(false, CAMERA_PROBLEMS[error && error.code] || T.decoder_missing);
    });
  }

  function stopCamera() {
    if (scanner) scanner.stop();
    setCamera(false, "");
  }

  camButton.addEventListener("click", function () {
    if (scanner && scanner.running) stopCamera(); else startCamera();
  });

  // ---- Live counters (every desk polls) --------------------------------------------------------
  function countsUrl() {
    return CFG.urls.counts + (state.sessionId ? "?session_id=" + state.sessionId : "");
  }
  function refreshCounts() {
    if (document.hidden) return;
    api("GET", countsUrl()).then(function (res) {
      if (res.status !== 200 || !res.data) return;
      var values = res.data;  // the counters of docs/statistics.md, by name
      document.querySelectorAll("[data-count]").forEach(function (el) {
        var n = values[el.dataset.count];
        if (n != null) el.textContent = String(n);
      });
    });
  }
  setInterval(refreshCounts, COUNTS_EVERY_MS);
  document.addEventListener("visibilitychange", refreshCounts);

  function afterChange() {
    refreshCounts();
    if (searchActive()) runSearch();
  }

  // ---- Search (name, furigana in カナ or ひらがな, organization, email; kana rows) -----------
  var searchInput = $("search-input"), list = $("search-results"), note = $("search-note");
  var rowTemplate = $("person-row");
  var searchTimer = 0, searchSeq = 0;

  function searchActive() { return searchInput.value.trim() !== "" || state.row !== ""; }

  function runSearch() {
    clearTimeout(searchTimer);
    if (!searchActive()) { list.replaceChildren(); note.textContent = T.hint; return; }
    var params = new URLSearchParams({ q: searchInput.value.trim() });
    if (state.row) params.set("row", state.row);
    if (state.sessionId) params.set("session_id", state.sessionId);
    var seq = ++searchSeq;
    note.textContent = T.searching;
    api("GET", CFG.urls.search + "?" + params.toString()).then(function (res) {
      if (seq !== searchSeq) return;  // an older answer arriving late
      if (res.status !== 200 || !res.data) { note.textContent = problem(res); return; }
      var people = res.data.results;
      note.textContent = people.length ? fmt(T.results, { n: people.length }) : T.no_results;
      list.replaceChildren.apply(list, people.map(personRow));
    });
  }

  function personRow(r) {
    var li = rowTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.id = r.id;
    li.querySelector(".person-name").textContent = r.name;
    li.querySelector(".person-kana").textContent = r.kana;
    var when = CFG.several_sessions && !state.sessionId && r.session ? r.session.when : "";
    setText(li.querySelector(".person-org"), [r.organization, when].filter(Boolean).join(" · "));
    var status = li.querySelector(".status");
    status.textContent = T[r.status] || r.status;
    status.className = "status status-" + r.status;
    status.hidden = r.status === "confirmed";  // only what needs attention: the waiting list
    var checkedIn = li.querySelector(".person-in");
    setText(checkedIn, r.checked_in_at ? "✓ " + fmt(T.checked_in_at, { time: r.checked_in_time }) +
                                        (r.checked_in_desk ? " · " + r.checked_in_desk : "") : "");
    if (r.checked_in_at) li.classList.add("person-done");
    if (r.walk_in) checkedIn.textContent += " · " + T.walk_in;
    li.querySelector(".person-security").hidden = !r.not_on_security_list;
    var button = li.querySelector(".person-checkin");
    button.hidden = !!r.checked_in_at || r.status !== "confirmed";
    button.addEventListener("click", function () {
      button.disabled = true;
      api("POST", regUrl(CFG.urls.checkin, r.id), { session_id: state.sessionId, desk: state.desk }, "search")
        .then(function (res) {
          button.disabled = false;
          if (res.status === 200 && res.data) showResult(res.data.result, res.data.message, res.data.registration);
          else showResult("error", problem(res), null);
          afterChange();
        });
    });
    // Someone checked in already (maybe before the result screen closed): reprint or take it back.
    var done = !!r.checked_in_at && r.status === "confirmed";
    var badge = li.querySelector(".person-badge");
    badge.hidden = !done;
    if (done) badge.href = regUrl(CFG.urls.badge, r.id);
    badge.addEventListener("click", function (e) { printFromPage(e, r, null); });
    var undo = li.querySelector(".person-undo");
    undo.hidden = !done;
    undo.addEventListener("click", function () {
      undo.disabled = true;
      api("POST", regUrl(CFG.urls.undo, r.id), { desk: state.desk }).then(function (res) {
        undo.disabled = false;
        if (res.status === 200 && res.data) showResult("undone", res.data.message, res.data.registration);
        else showResult("error", problem(res), r);
        afterChange();
      });
    });
    return li;
  }

  function setRow(row) {
    state.row = row;
    document.querySelectorAll(".kana-row").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.row === state.row ? "true" : "false");
    });
  }
  searchInput.addEventListener("input", function () {
    if (state.row && searchInput.value.trim()) setRow("");  // a typed name searches everyone, not one row
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  searchInput.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    e.preventDefault();
    // A scanner that fires while the search field has focus: treat the code as a scan.
    var value = searchInput.value.trim();
    // An entry credential (domain/registration/passes.py): format 3 digits, or ER2 mailed before.
    if (/^3[0-9]{100,190}$/.test(value) || /^ER2:[A-Za-z2-7]{100,200}$/.test(value)) {
      searchInput.value = "";
      runSearch();
      submitPayload(value, "keyboard");
    } else {
      runSearch();
    }
  });
  document.querySelectorAll(".kana-row").forEach(function (button) {
    button.addEventListener("click", function () {
      setRow(state.row === button.dataset.row ? "" : button.dataset.row);
      if (state.row) searchInput.value = "";  // a row is the whole row, not the row and old text
      runSearch();
    });
  });

  // ---- Walk-ins ------------------------------------------------------------------------------
  var form = $("walkin-form");
  function clearErrors() {
    form.querySelectorAll(".error").forEach(function (el) { el.textContent = ""; el.hidden = true; });
    form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  var again = $("walkin-again");
  function askAgain(text) {
    $("walkin-again-text").textContent = text;
    again.hidden = false;
    $("walkin-submit").hidden = true;
    $("walkin-again-yes").focus();
  }
  function closeAgain() {
    again.hidden = true;
    $("walkin-submit").hidden = false;
  }
  $("walkin-again-yes").addEventListener("click", function () { sendWalkIn(true); });
  $("walkin-again-no").addEventListener("click", function () { closeAgain(); $("walkin-submit").focus(); });
  form.addEventListener("input", closeAgain);  // another name: the question no longer applies

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    sendWalkIn(false);
  });
  function sendWalkIn(confirm) {
    clearErrors();
    var data = new FormData(form), body = { desk: state.desk, confirm: confirm };
    data.forEach(function (value, key) { body[key] = typeof value === "string" ? value.trim() : value; });
    // Every field, an unticked choice as "": the form's 422 says in words what is missing (the API's
    // document marks the fields required, and an absent one is a 400 without those words).
    form.querySelectorAll("[name]").forEach(function (el) { if (!(el.name in body)) body[el.name] = ""; });
    if (!body.session_id && state.sessionId) body.session_id = String(state.sessionId);
    var submit = $("walkin-submit"), yes = $("walkin-again-yes");
    submit.disabled = yes.disabled = true;
    api("POST", CFG.urls.walk_in, body).then(function (res) {
      submit.disabled = yes.disabled = false;
      var code = res.data && res.data.error && res.data.error.code;
      if (res.status === 409 && code === "walk_in_duplicate") {
        askAgain(problem(res));
        beep("amber");
        return;
      }
      closeAgain();
      if (res.status === 201 && res.data) {
        form.reset();
        $("walkin").open = false;
        showResult("walk_in", res.data.message, res.data.registration);
        afterChange();
        return;
      }
      var fields = res.data && res.data.error && res.data.error.fields;
      if (res.status === 422 && fields) {
        var first = null;
        form.querySelectorAll("[data-field]").forEach(function (box) {  // in the order of the form
          var name = box.dataset.field, err = $("walkin-" + name + "-error");
          if (!fields[name] || !err) return;
          box.classList.add("has-error");
          setText(err, fields[name].join(" "));
          var input = box.querySelector("input");
          if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
        });
        if (first) first.focus();
        else setText($("walkin-error"), problem(res));
      } else {
        setText($("walkin-error"), problem(res));
        beep("bad");
      }
    });
  }

  // ---- Session and desk name (kept in the URL, so a bookmark sets up a desk) -------------------
  function setParam(name, value) {
    var url = new URL(window.location.href);
    if (value) url.searchParams.set(name, value); else url.searchParams.delete(name);
    return url;
  }
  var sessionSelect = $("desk-session");
  if (sessionSelect) {
    sessionSelect.addEventListener("change", function () {
      window.location.assign(setParam("session", sessionSelect.value).toString());
    });
  }
  var deskName = $("desk-name");
  deskName.addEventListener("change", function () {
    state.desk = deskName.value.trim().slice(0, 50) || CFG.desk;
    window.history.replaceState(null, "", setParam("desk", state.desk).toString());
  });
  deskName.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); deskName.blur(); } });
  $("desk-settings").addEventListener("submit", function (e) { e.preventDefault(); });

  // ---- Start ---------------------------------------------------------------------------------
  refreshCounts();
  refocus();
  if (new URLSearchParams(window.location.search).get("camera") === "1") startCamera();
})();
