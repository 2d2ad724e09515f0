/* Contract exit: say that the ZIP file is being made, and when the download has begun.
   Making the file takes from seconds to a minute, and a browser shows nothing while a form's
   download is on its way. The server answers the download with a cookie holding the form's
   token; this script waits for it. Without JavaScript the form works as before. */
(function () {
  "use strict";
  var form = document.querySelector("[data-exit-download]");
  if (!form) { return; }
  var status = form.querySelector("[data-exit-status]");
  var button = form.querySelector("button[type=submit]");
  var cookie = form.getAttribute("data-cookie");
  var token = form.querySelector("input[name=download_token]").value;
  var timer = null;

  function hasCookie() {
    return document.cookie.split(";").some(function (part) {
      return part.trim() === cookie + "=" + token;
    });
  }

  function done() {
    window.clearInterval(timer);
    document.cookie = cookie + "=; Max-Age=0; Path=/; SameSite=Strict";
    button.disabled = false;
    button.removeAttribute("aria-disabled");
    status.textContent = "The ZIP file is made: your browser is saving it (see its downloads).";
  }

  form.addEventListener("submit", function (event) {
    if (button.getAttribute("aria-disabled") === "true") {
      event.preventDefault();  // already on its way: one file at a time
      return;
    }
    // Disabled after the form has been sent, so that the click still submits it.
    button.setAttribute("aria-disabled", "true");
    window.setTimeout(function () { button.disabled = true; }, 0);
    status.innerHTML = "";
    var spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-2";
    spinner.setAttribute("aria-hidden", "true");
    status.appendChild(spinner);
    status.appendChild(document.createTextNode(
      "Making the ZIP file from the data as it stands. This can take a minute; the download " +
      "starts by itself. Keep this page open."));
    timer = window.setInterval(function () { if (hasCookie()) { done(); } }, 500);
  });
})();
