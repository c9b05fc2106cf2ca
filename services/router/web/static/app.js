/* Triage team-lead page: progressive enhancement only (every page works without it).
   - status messages are re-inserted into the aria-live region so screen readers say them;
   - the queues overview refreshes its rows on server-sent events (PostgreSQL
     LISTEN/NOTIFY), with polling when the event stream is not available. */
(function () {
  "use strict";

  function announce() {
    var alert = document.getElementById("alert");
    if (alert) {
      alert.focus();
      return;
    }
    var status = document.getElementById("status");
    var text = status && status.getAttribute("data-notice");
    if (!text) return;
    status.textContent = "";
    window.setTimeout(function () {
      var p = document.createElement("p");
      p.className = "notice";
      p.textContent = text;
      status.appendChild(p);
    }, 150);
  }

  function live(table) {
    var rows = document.getElementById("queue-rows");
    var state = document.getElementById("live-state");
    var lang = document.documentElement.lang;
    var pending = null;
    var timer = null;
    var opened = 0;

    function stamp(label) {
      if (!state) return;
      var time = new Date().toLocaleTimeString(lang);
      state.textContent = (label || state.getAttribute("data-label")).replace("{time}", time);
    }

    function refresh() {
      pending = null;
      fetch(table.getAttribute("data-rows"), { credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 401) {
            window.location.reload();
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (typeof html === "string") {
            rows.innerHTML = html;
            stamp();
          }
        })
        .catch(function () {});
    }

    function soon() {
      if (!pending) pending = window.setTimeout(refresh, 300);
    }

    function every(seconds) {
      if (timer) window.clearInterval(timer);
      timer = window.setInterval(refresh, seconds * 1000);
    }

    function connect() {
      var source = new window.EventSource(table.getAttribute("data-events"));
      source.addEventListener("ready", function () {
        opened += 1;
        every(60); // ages grow even when nothing changes
        if (opened > 1) soon(); // changes made while reconnecting
      });
      source.addEventListener("changed", soon);
      source.onerror = function () {
        // A stream that ended on purpose reconnects by itself (CONNECTING);
        // a refused one (CLOSED) means polling for a while, then another try.
        if (source.readyState === window.EventSource.CLOSED) {
          every(10);
          stamp(state && state.getAttribute("data-offline"));
          window.setTimeout(connect, 60000);
        }
      };
    }

    every(10);
    if (window.EventSource) connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    announce();
    var table = document.getElementById("queues");
    if (table && window.fetch) live(table);
  });
})();
