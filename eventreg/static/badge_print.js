// The badge PDF opens in the browser's viewer and its print dialog opens at once. The frame's
// src is set only after the load listener is in place (a cached PDF could load before it).
var badge = document.getElementById("badge");
badge.addEventListener("load", function () {
  try { this.contentWindow.focus(); this.contentWindow.print(); } catch (e) { window.print(); }
});
badge.src = badge.dataset.src;
