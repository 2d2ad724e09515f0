/* Progress of a background job (a meeting pack, a contract-exit ZIP): poll the status endpoint
   and update the page; reload when finished.
   No inline script (the Content Security Policy forbids it); without JavaScript the page offers
   a "check progress" link instead. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-job-status-url");
  var message = box.querySelector("[data-job-message]");
  var bar = box.querySelector("progress");
  var delay = 1500;

  function show(status) {
    var text = status.job_label + (status.message ? ": " + status.message : "");
    if (!status.finished) { text += " (" + status.progress + "% done)"; }
    if (message.textContent !== text) { message.textContent = text; }
    if (bar) { bar.value = status.progress; bar.textContent = status.progress + "%"; }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) {
          message.textContent = status.ready
            ? "Ready: loading the page."
            : status.job_label + ": " + status.message;
          window.setTimeout(function () { window.location.assign(status.page); }, 800);
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
