// The compose page: a placeholder button inserts its text at the cursor of the message.
document.querySelectorAll("[data-insert]").forEach(function (chip) {
  chip.addEventListener("click", function () {
    var box = document.getElementById("m-body"), text = chip.getAttribute("data-insert");
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus(); box.selectionStart = box.selectionEnd = start + text.length;
  });
});
