// The badge PDF opens in the browser's viewer and its print dialog opens at once.
document.getElementById("badge").addEventListener("load", function () {
  try { this.contentWindow.focus(); this.contentWindow.print(); } catch (e) { window.print(); }
});
