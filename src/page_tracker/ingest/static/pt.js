/*
 * page-tracker pt.js - the tracking script (version 1).
 *
 * Embed:  <script defer src="https://TRACKER/pt.js" data-site="SITE_ID"></script>
 *
 * Sends one page view on load and one on every SPA history navigation (pushState,
 * replaceState that changes the path, popstate). Sets no cookie and stores nothing.
 * Honours Do-Not-Track and Global Privacy Control when the script tag says
 * data-honour-dnt (the server enforces the site's setting as well).
 * The endpoint is derived from this script's own src, so it works from any host.
 * Nothing here may throw into the page: every step is guarded.
 */
(function (window, document) {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var site = script.getAttribute("data-site");
  if (!site) return;
  // The same origin and folder the script came from, e.g. https://tracker/pt.js -> https://tracker/api/v1/hits
  var endpoint = script.src.replace(/pt\.js(\?.*)?$/, "api/v1/hits");
  var nav = window.navigator;
  var lastUrl = null;

  function optedOut() {
    if (!script.hasAttribute("data-honour-dnt")) return false;
    return nav.doNotTrack === "1" || window.doNotTrack === "1" || nav.globalPrivacyControl === true;
  }

  function send(body) {
    // text/plain: a "simple" request, no CORS preflight.
    try {
      if (nav.sendBeacon && nav.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    } catch (e) { /* fall through */ }
    try {
      if (window.fetch) {
        window.fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "no-cors",
          credentials: "omit", headers: { "Content-Type": "text/plain" } })["catch"](function () {});
        return;
      }
    } catch (e) { /* fall through */ }
    try {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", endpoint, true);
      xhr.setRequestHeader("Content-Type", "text/plain");
      xhr.send(body);
    } catch (e) { /* give up silently: never break the page */ }
  }

  function pageview() {
    var url = window.location.href.split("#")[0];
    if (url === lastUrl || optedOut()) return; // replaceState with the same URL is no new view
    var referrer = lastUrl || document.referrer || null;
    lastUrl = url;
    send(JSON.stringify({
      site: site, url: url, referrer: referrer, title: document.title || null,
      screen: window.screen ? window.screen.width + "x" + window.screen.height : null, event: null
    }));
  }

  // SPA navigation: wrap history methods, then count after the URL changed.
  function wrap(name) {
    var original = window.history && window.history[name];
    if (typeof original !== "function") return;
    window.history[name] = function () {
      var result = original.apply(this, arguments);
      pageview();
      return result;
    };
  }
  wrap("pushState");
  wrap("replaceState");
  window.addEventListener("popstate", pageview);

  // A prerendered page is counted when it is shown, not when it is fetched.
  if (document.visibilityState === "prerender") {
    document.addEventListener("visibilitychange", function onShow() {
      if (document.visibilityState === "visible") {
        document.removeEventListener("visibilitychange", onShow);
        pageview();
      }
    });
  } else {
    pageview();
  }
})(window, document);
