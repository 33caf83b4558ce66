// On a phone the back office's tabs scroll sideways; bring the current page's tab into view.
(function () {
  var current = document.querySelector(".admin-tabs [aria-current=page]");
  if (current && current.scrollIntoView) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }
})();
