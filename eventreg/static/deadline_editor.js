// The deadline editor (templates/admin/_deadline_fields.html): as the kind or its parts change,
// the server resolves the deadline of each session (POST …/deadline-preview, nothing saved) and
// its answer replaces the list under the editor. Typing in a part chooses its kind. Without this
// script the form works the same; the server checks everything when it is saved.
(function () {
  "use strict";
  function bind(editor) {
    if (editor.dataset.bound) return;
    editor.dataset.bound = "1";
    var url = editor.dataset.previewUrl;
    var form = editor.closest("form");
    var target = editor.querySelector(".deadline-resolved");
    if (!url || !form || !target) return;
    var check = editor.querySelector("button[value='deadline_preview']");
    if (check) check.hidden = true;  // the answer comes by itself
    var timer = null, asked = 0;
    function ask() {
      var body = new FormData(form);
      body.set("scope", editor.dataset.scope || "event");
      var mine = ++asked;
      editor.setAttribute("aria-busy", "true");
      fetch(url, {method: "POST", body: body, credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (mine !== asked) return;  // a later answer is on its way
          editor.removeAttribute("aria-busy");
          if (html !== null) target.innerHTML = html;
        })
        .catch(function () { if (mine === asked) editor.removeAttribute("aria-busy"); });
    }
    function later() { clearTimeout(timer); timer = setTimeout(ask, 250); }
    editor.querySelectorAll(".deadline-part").forEach(function (part) {
      part.addEventListener("focus", function () {
        var radio = part.closest(".deadline-choice").querySelector("input[type=radio]");
        if (radio && !radio.checked) { radio.checked = true; later(); }
      });
    });
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }
  document.querySelectorAll(".deadline-editor").forEach(bind);
})();
