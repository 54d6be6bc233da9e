// Idle logoff warning. The server ends a session SESSION_IDLE_TIMEOUT_S after the last
// activity (clinsum.accounts.middleware); this only warns ~2 minutes before, offers to stay,
// and leaves the page (so no PHI stays on screen) when the time is up.
// The server decides what is a poll (an htmx GET of a panel that refreshes itself) and does not
// count it as activity; the X-ClinSum-Poll header below only keeps this timer in step.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box) { return; }
  var timeoutMs = parseInt(box.dataset.timeoutS, 10) * 1000;
  var warningMs = Math.min(parseInt(box.dataset.warningS, 10) * 1000, timeoutMs / 2);
  var countdown = box.querySelector("[data-idle-countdown]");
  var stay = box.querySelector("[data-idle-stay]");
  var lastActivity = Date.now();

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function activity() {
    lastActivity = Date.now();
    box.hidden = true;
  }

  function check() {
    var left = timeoutMs - (Date.now() - lastActivity);
    if (left <= 0) {
      window.location.assign(box.dataset.loginUrl);
      return;
    }
    if (left <= warningMs) {
      var minutes = Math.floor(left / 60000);
      var seconds = Math.floor((left % 60000) / 1000);
      countdown.textContent = minutes > 0 ? minutes + " min " + seconds + " s" : seconds + " s";
      if (box.hidden) {
        box.hidden = false;
        stay.focus();
      }
    }
  }

  stay.addEventListener("click", function () {
    fetch(box.dataset.keepaliveUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken()}
    }).then(function (response) {
      if (response.ok) { activity(); } else { window.location.assign(box.dataset.loginUrl); }
    });
  });

  document.body.addEventListener("htmx:configRequest", function (event) {
    // A poll (hx-trigger="every ...") has no triggering event.
    if (!event.detail.triggeringEvent) {
      event.detail.headers["X-ClinSum-Poll"] = "1";
    } else {
      activity();
    }
  });

  window.setInterval(check, 1000);
})();
