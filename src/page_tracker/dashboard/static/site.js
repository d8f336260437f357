/* page-tracker site page: the browser's time zone when the URL names none, the pickers
   that apply on change, the chart (uPlot) and its table from the stats API, and the live
   visitors of the last five minutes. Every text comes from the page's data- attributes
   (translated there); plain JS, no build step, no inline script (CSP). */
(function () {
  "use strict";

  var LIVE_EVERY_MS = 15000;

  // 1. No tz in the URL: show the browser's zone (a bookmark then keeps it).
  var view = document.getElementById("view");
  var zones = document.getElementById("tz");
  if (view && zones && view.dataset.tzGiven === "false") {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (ignored) {
      zone = "";
    }
    var offered = Array.prototype.some.call(zones.options, function (option) {
      return option.value === zone;
    });
    if (zone && zone !== "UTC" && offered) {
      var url = new URL(location.href);
      url.searchParams.set("tz", zone);
      location.replace(url.toString());
      return;
    }
  }

  // 2. The time zone and step pickers apply when changed; "automatic" leaves no
  //    empty parameter in the URL.
  document.querySelectorAll("form.auto-submit").forEach(function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value === "") field.disabled = true;
      });
    });
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { form.requestSubmit(); });
    });
  });

  // 3. The chart and its table.
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
    var labels = box.dataset;
    var xs = data.series.map(function (p) { return Date.parse(p.start) / 1000; });
    var axis = { stroke: color("--muted"), grid: { stroke: color("--grid") }, ticks: { stroke: color("--grid") } };
    var height = box.clientWidth < 500 ? 200 : 260;
    var options = {
      width: box.clientWidth,
      height: height,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), data.tz); },
      scales: { x: { time: true } },
      axes: [Object.assign({}, axis), Object.assign({ size: 50 }, axis)],
      series: [
        { label: labels.labelPeriod },
        { label: labels.labelViews, stroke: color("--accent"), fill: color("--accent-fill"), width: 2 },
        { label: labels.labelVisitors, stroke: color("--accent-2"), width: 2 },
      ],
    };
    var plot = new uPlot(options, [
      xs,
      data.series.map(function (p) { return p.pageviews; }),
      data.series.map(function (p) { return p.visitors; }),
    ], box);
    window.addEventListener("resize", function () {
      plot.setSize({ width: box.clientWidth, height: height });
    });
  }

  var chart = document.getElementById("chart");
  if (chart) {
    fetch(chart.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        fillTable(data.series);
        drawChart(chart, data);
        chart.dataset.ready = "true";
      })
      .catch(function (problem) {
        var error = document.getElementById("chart-error");
        error.textContent = chart.dataset.error + " " + problem.message;
        error.hidden = false;
      });
  }

  // 4. Live visitors: polled while the tab is visible, at once when it shows again.
  var live = document.getElementById("live");
  if (!live) return;
  var liveText = document.getElementById("live-text");
  var timer = null;
  var asking = false;

  function showLive(count) {
    var texts = live.dataset;
    live.dataset.count = count === null ? "" : String(count);
    if (count === null) liveText.textContent = texts.textUnknown;
    else if (count === 1) liveText.textContent = texts.textOne;
    else liveText.textContent = texts.text.replace("{count}", count.toLocaleString());
    live.classList.toggle("on", Boolean(count));
  }

  function poll() {
    timer = null;
    if (asking) return;
    asking = true;
    fetch(live.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) { showLive(data.visitors); })
      .catch(function () { liveText.textContent = live.dataset.textFailed; })
      .then(function () {
        asking = false;
        schedule();
      });
  }

  function schedule() {
    if (timer === null && !asking && !document.hidden) timer = setTimeout(poll, LIVE_EVERY_MS);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (timer === null) {
      poll();
    }
  });
  poll();
})();
