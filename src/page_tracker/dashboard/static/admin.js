/* page-tracker dashboard, the account side: a site's options, members and share links,
   and the API tokens, through the REST API with the session's CSRF token. Plain JS, no
   build step; the CSP allows no inline script. Text comes from base.html's #messages. */
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var text = document.getElementById("messages").dataset;

  function say(key, values) {
    return text[key].replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  /* Call the API; resolves with the parsed answer (null for 204), rejects with the API's
     own message (its error shape) or the status. */
  function api(method, url, body) {
    var headers = { Accept: "application/json", "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.message || String(response.status));
        return data;
      });
    });
  }

  function show(status, message, failed) {
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("error", Boolean(failed));
  }

  function failure(status) {
    return function (problem) { show(status, say("failed", { reason: problem.message }), true); };
  }

  function reload() { location.reload(); }

  /* A row for what was just made, so the list shows it without a reload (which would
     also hide the secret shown this once); its button revokes it. */
  function addRow(table, cells, onRevoke) {
    var body = table.tBodies[0];
    Array.prototype.forEach.call(body.querySelectorAll("tr.empty"), function (row) { row.remove(); });
    var row = body.insertRow();
    cells.forEach(function (value) { row.insertCell().textContent = value; });
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary danger";
    button.textContent = text.revoke;
    button.addEventListener("click", function () {
      if (confirm(text.confirmRevoke)) onRevoke();
    });
    row.insertCell().appendChild(button);
  }

  function day(moment) { return moment ? moment.slice(0, 10) : text.never; }

  var options = document.getElementById("site-options");
  if (options) {
    options.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = options.querySelector(".status");
      var hosts = options.hosts.value.split(/\s+/).filter(Boolean);
      api("PATCH", "/api/v1/sites/" + options.dataset.site, {
        hosts: hosts,
        public_counters: options.public_counters.checked,
        honour_dnt: options.honour_dnt.checked,
        sharing: options.sharing.checked,
        retention_days: Number(options.retention_days.value || 0),
      }).then(function () { show(status, text.saved); setTimeout(reload, 600); }, failure(status));
    });
  }

  var members = document.getElementById("members");
  var addMember = document.getElementById("add-member");
  var membersStatus = document.getElementById("members-status");
  if (addMember) {
    var membersUrl = "/api/v1/sites/" + addMember.dataset.site + "/members";
    addMember.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", membersUrl, { email: addMember.email.value.trim(), role: addMember.role.value })
        .then(reload, failure(membersStatus));
    });
    members.querySelectorAll("select.member-role").forEach(function (select) {
      select.addEventListener("change", function () {
        api("POST", membersUrl, { email: select.dataset.email, role: select.value })
          .then(function () { show(membersStatus, text.saved); }, function (problem) {
            failure(membersStatus)(problem);
            setTimeout(reload, 1500);
          });
      });
    });
    members.querySelectorAll("button.remove-member").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!confirm(text.confirmRemove)) return;
        api("DELETE", membersUrl + "/" + button.dataset.user).then(reload, failure(membersStatus));
      });
    });
  }

  var addShare = document.getElementById("add-share");
  if (addShare) {
    var sharesUrl = "/api/v1/sites/" + addShare.dataset.site + "/shares";
    var sharesStatus = document.getElementById("shares-status");
    addShare.addEventListener("submit", function (event) {
      event.preventDefault();
      var days = addShare.expires_in_days.value;
      api("POST", sharesUrl, {
        label: addShare.label.value,
        expires_in_days: days ? Number(days) : null,
      }).then(function (created) {
        document.getElementById("share-url").value = created.url;
        document.getElementById("share-created").hidden = false;
        show(sharesStatus, text.saved);
        addRow(document.getElementById("shares"),
          [created.label, created.prefix + "…", day(created.expires_at), text.working],
          function () {
            api("DELETE", sharesUrl + "/" + created.id).then(reload, failure(sharesStatus));
          });
        addShare.reset();
      }, failure(sharesStatus));
    });
    document.querySelectorAll("button.revoke-share").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!confirm(text.confirmRevoke)) return;
        api("DELETE", sharesUrl + "/" + button.dataset.share).then(reload, failure(sharesStatus));
      });
    });
  }

  var addToken = document.getElementById("add-token");
  if (addToken) {
    var tokenStatus = document.getElementById("new-token-status");
    addToken.addEventListener("submit", function (event) {
      event.preventDefault();
      var scopes = Array.prototype.filter
        .call(addToken.querySelectorAll('input[name="scopes"]'), function (box) { return box.checked; })
        .map(function (box) { return box.value; });
      api("POST", "/api/v1/tokens", {
        email: addToken.dataset.email,
        password: addToken.password.value,
        name: addToken.name.value,
        scopes: scopes,
        expires_in_days: Number(addToken.expires_in_days.value),
      }).then(function (created) {
        document.getElementById("token-value").value = created.token;
        document.getElementById("token-created").hidden = false;
        show(tokenStatus, "");
        addRow(document.getElementById("tokens"),
          [created.name, created.prefix + "…", created.scopes.join(", "), day(created.expires_at), text.never],
          function () {
            api("DELETE", "/api/v1/tokens/" + created.id)
              .then(reload, failure(document.getElementById("tokens-status")));
          });
        addToken.reset();
      }, failure(tokenStatus));
    });
  }
  document.querySelectorAll("button.revoke-token").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!confirm(text.confirmRevoke)) return;
      api("DELETE", "/api/v1/tokens/" + button.dataset.token)
        .then(reload, failure(document.getElementById("tokens-status")));
    });
  });
})();
