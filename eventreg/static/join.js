// The join link's countdown (templates/public/join.html): the server wrote the time left; this
// counts it down from the server's "now", so a wrong device clock does not matter.
(function () {
  "use strict";
  var el = document.getElementById("join-countdown");
  if (!el) return;
  var remaining = Date.parse(el.dataset.opens) - Date.parse(el.dataset.now);
  var started = Date.now();
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function text(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var d = Math.floor(s / 86400);
    var clock = pad(Math.floor(s % 86400 / 3600)) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    return d > 0 ? el.dataset.days.replace("#", d) + " " + clock : clock;
  }
  function tick() {
    var ms = remaining - (Date.now() - started);
    if (ms <= 0) { el.textContent = el.dataset.ready; return; }
    el.textContent = el.dataset.template.replace("@", text(ms));
    setTimeout(tick, ms % 1000 || 1000);
  }
  tick();
}());
