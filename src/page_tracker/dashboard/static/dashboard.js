/* page-tracker dashboard: sign in/out through /api/v1/session, the chart from the stats
   API, copy buttons. Plain JS, no build step; the CSP allows no inline script. */
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
      var done = function () {
        button.textContent = text.copied;
        setTimeout(function () { button.textContent = text.copy; }, 1500);
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

  function color(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function fillTable(series) {
    var body = document.querySelector("#chart-table tbody");
    series.forEach(function (point) {
      var row = body.insertRow();
      [point.period, point.pageviews, point.visitors].forEach(function (value, i) {
        var cell = row.insertCell();
        cell.textContent = i ? value.toLocaleString() : value;
        if (i) cell.className = "num";
      });
    });
  }

  function drawChart(box, data) {
    var hourly = data.interval === "hour";
    var xs = data.series.map(function (p) { return Date.parse(p.start) / 1000; });
    var axis = { stroke: color("--muted"), grid: { stroke: color("--grid") }, ticks: { stroke: color("--grid") } };
    var options = {
      width: box.clientWidth,
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), data.tz); },
      scales: { x: { time: true } },
      axes: [Object.assign({}, axis), Object.assign({ size: 50 }, axis)],
      series: [
        { label: hourly ? text.hour : text.day },
        { label: text.pageviews, stroke: color("--accent"), fill: color("--accent-fill"), width: 2 },
        { label: text.visitors, stroke: color("--accent-2"), width: 2 },
      ],
    };
    var plot = new uPlot(options, [
      xs,
      data.series.map(function (p) { return p.pageviews; }),
      data.series.map(function (p) { return p.visitors; }),
    ], box);
    window.addEventListener("resize", function () {
      plot.setSize({ width: box.clientWidth, height: 260 });
    });
  }

  var chart = document.getElementById("chart");
  if (chart) {
    fetch(chart.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("the stats API answered " + response.status);
        return response.json();
      })
      .then(function (data) {
        fillTable(data.series);
        drawChart(chart, data);
        chart.dataset.ready = "true";
      })
      .catch(function (problem) {
        var error = document.getElementById("chart-error");
        error.textContent = say("chartFailed", { reason: problem.message });
        error.hidden = false;
      });
  }
})();
