// The compose page: a placeholder button inserts its text at the cursor of the message.
document.querySelectorAll("[data-insert]").forEach(function (chip) {
  chip.addEventListener("click", function () {
    var box = document.getElementById("m-body"), text = chip.getAttribute("data-insert");
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus(); box.selectionStart = box.selectionEnd = start + text.length;
  });
});

// The compose page: the number of recipients follows the filter as it changes (the same count as
// sending, from /messages/count). Without JavaScript the 「人数を更新」 button counts again.
(function () {
  var line = document.querySelector(".recipient-count[data-count-url]");
  if (!line) { return; }
  var box = line.closest("fieldset"), form = line.closest("form"), timer = null, asked = 0;
  // Taken out, not hidden: a hidden first submit button would still be what Enter presses.
  var button = box.querySelector("button[name=recount]");
  if (button) { button.remove(); }
  function recount() {
    var query = new URLSearchParams();
    ["session", "status", "sector", "walk_in", "q", "question", "answer"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) { query.set(name, field.value); }
    });
    var mine = ++asked;
    fetch(line.getAttribute("data-count-url") + "?" + query.toString(), {credentials: "same-origin"})
      .then(function (answer) { if (!answer.ok) { throw new Error(answer.status); } return answer.json(); })
      .then(function (counted) { if (mine === asked) { line.textContent = counted.words; } })
      .catch(function () { if (button && !button.isConnected) { line.after(button); } });  // then the button counts
  }
  box.addEventListener("change", recount);
  box.addEventListener("input", function (event) {
    if (event.target.name !== "q") { return; }
    clearTimeout(timer);
    timer = setTimeout(recount, 300);
  });
})();
