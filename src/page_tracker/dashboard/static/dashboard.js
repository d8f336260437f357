/* page-tracker dashboard: sign in/out through /api/v1/session, copy buttons (the site
   page's own script is site.js). Plain JS, no build step; the CSP allows no inline script. */
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  // The page's text in its language (base.html's #messages): the CSP allows no inline
  // script, so the strings come as data- attributes; {name} marks a value to fill in.
  var text = document.getElementById("messages").dataset;
  function say(key, values) {
    return text[key].replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function signInMessage(response) {
    if (response.status === 401) return text.wrongPassword;
    if (response.status === 429) {
      var wait = response.headers.get("Retry-After");
      return say("tooMany", { seconds: wait || "60" });
    }
    if (response.status === 400) return text.missingCredentials;
    return say("signInFailed", { status: response.status });
  }

  var form = document.getElementById("sign-in");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("sign-in-error");
      error.hidden = true;
      fetch("/api/v1/session", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email: form.email.value, password: form.password.value }),
      })
        .then(function (response) {
          if (response.ok) {
            location.reload();
            return;
          }
          error.textContent = signInMessage(response);
          error.hidden = false;
        })
        .catch(function () {
          error.textContent = text.unreachable;
          error.hidden = false;
        });
    });
  }

  var signOut = document.getElementById("sign-out");
  if (signOut) {
    signOut.addEventListener("click", function () {
      fetch("/api/v1/session", {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf },
      }).then(function () {
        location.href = "/dashboard/";
      });
    });
  }

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copy);
      var label = button.textContent;
      var done = function () {
        button.textContent = button.dataset.done || text.copied;
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done);
      } else {
        field.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
