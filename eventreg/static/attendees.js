// The attendee list: "select every row on this page", and the bulk form's fields that depend on the action.
(function () {
  "use strict";
  var form = document.getElementById("bulk");
  if (!form) { return; }
  var boxes = document.querySelectorAll('input[name="ids"][form="bulk"]');
  var head = document.querySelector("thead .col-select");
  if (head && boxes.length) {
    var all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", head.getAttribute("data-label") || head.textContent.trim());
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    head.textContent = "";
    head.appendChild(all);
  }
  var action = document.getElementById("b-action");
  var target = document.getElementById("b-target");
  var notify = document.getElementById("b-notify");
  function update() {
    if (target) { target.closest("div").hidden = action.value !== "move"; }
    if (notify) { notify.closest("label").hidden = action.value !== "cancel"; }
  }
  if (action) { action.addEventListener("change", update); update(); }
  // Ticking a row means "the rows I ticked".
  var selected = document.querySelector('input[name="scope"][value="selected"]');
  boxes.forEach(function (box) {
    box.addEventListener("change", function () { if (box.checked && selected) { selected.checked = true; } });
  });
}());
// The filter form leaves empty fields out of the URL, so shared links stay short.
(function () {
  "use strict";
  var filter = document.querySelector("form.roster-filter");
  if (!filter) { return; }
  filter.addEventListener("submit", function () {
    filter.querySelectorAll("input, select").forEach(function (field) {
      if (field.name && field.value === "" && field.type !== "checkbox") { field.disabled = true; }
    });
  });
}());
// On a wide screen every filter is in view; on a phone they stay folded unless one is in use.
(function () {
  "use strict";
  var more = document.querySelector("details.more-filters");
  if (more && window.matchMedia("(min-width: 700px)").matches) { more.open = true; }
}());
