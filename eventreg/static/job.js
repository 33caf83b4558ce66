// The job page: polls the job's JSON about once a second and moves the <progress> bar; when
// the job is done, shows the download link. No inline script: everything it needs is in the
// data- attributes of #job (the status URL, the state at page load, the offline message).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("job-progress");
  var state = document.getElementById("job-state");
  var link = document.getElementById("job-download");
  var note = document.getElementById("job-note");
  var url = box.dataset.statusUrl;
  var POLL_MS = 1000;

  function active(status) { return status === "queued" || status === "running"; }

  function show(job) {
    bar.max = Math.max(job.total, 1);
    bar.value = job.status === "done" ? bar.max : Math.min(job.progress, bar.max);
    bar.textContent = job.progress + " / " + job.total;
    state.textContent = job.message;
    box.dataset.status = job.status;
    box.className = "job job-" + job.status;
    if (job.download_url) {
      link.href = job.download_url;
      link.hidden = false;
    }
    if (!active(job.status) && note) { note.hidden = true; }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (active(job.status)) { window.setTimeout(poll, POLL_MS); }
      })
      .catch(function () {
        state.textContent = box.dataset.offline;
        window.setTimeout(poll, 3 * POLL_MS);
      });
  }

  if (active(box.dataset.status)) { window.setTimeout(poll, POLL_MS); }
})();
