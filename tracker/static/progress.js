/* Progressive enhancement for the document pages: while a document or a batch of statements is
   being made, ask the server for its status every 2 seconds and update the page's aria-live region.
   The pages work without this script: they offer a "Check again" link instead. */
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var MAX_POLLS = 450; // 15 minutes; after that the "Check again" link is still there
  var MAX_ERRORS = 5;

  function getJSON(url, done, fail) {
    if (!window.fetch) { fail(); return; }
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.json();
      })
      .then(done, fail);
  }

  function poll(url, onData) {
    var polls = 0, errors = 0;
    function tick() {
      polls += 1;
      if (polls > MAX_POLLS) { return; }
      getJSON(url, function (data) {
        errors = 0;
        if (onData(data)) { window.setTimeout(tick, INTERVAL_MS); }
      }, function () {
        errors += 1;
        if (errors < MAX_ERRORS) { window.setTimeout(tick, INTERVAL_MS * errors); }
      });
    }
    window.setTimeout(tick, INTERVAL_MS);
  }

  function remove(el) { if (el && el.parentNode) { el.parentNode.removeChild(el); } }

  function text(el, value) { if (el && el.textContent !== String(value)) { el.textContent = String(value); } }

  /* One document: /documents/<id> */
  function watchDocument(region) {
    if (region.getAttribute("data-status") !== "queued") { return; }
    var label = region.getAttribute("data-label") || "document";
    poll(region.getAttribute("data-status-url"), function (data) {
      if (!data || data.status === "queued") { return true; }
      region.setAttribute("data-status", data.status);
      text(region.querySelector("[data-status-text]"), data.message || data.status);
      remove(region.querySelector("[data-waiting]"));
      var p = document.createElement("p");
      if (data.ready && data.download_url) {
        var a = document.createElement("a");
        a.className = "button";
        a.href = data.download_url;
        a.textContent = "Download the " + label.toLowerCase() + " (PDF)";
        p.appendChild(a);
        if (data.page_url) {
          var web = document.createElement("p");
          var w = document.createElement("a");
          w.href = data.page_url;
          w.textContent = "Read the " + label.toLowerCase() + " as a web page";
          web.appendChild(w);
          web.appendChild(document.createTextNode(" (works with screen readers)"));
          region.appendChild(p);
          p = web;
        }
      } else {
        p.textContent = "Something went wrong while making it. Reload this page to ask for it again.";
      }
      region.appendChild(p);
      return false;
    });
  }

  /* A batch of statements: /documents/batches/<id> */
  function watchBatch(region) {
    if (region.getAttribute("data-queued") === "0") { return; }
    var base = region.getAttribute("data-document-base") || "/documents/";
    var lastFailed = -1;
    poll(region.getAttribute("data-progress-url"), function (data) {
      if (!data) { return true; }
      text(region.querySelector("[data-done]"), data.done + " of " + data.total + " done");
      var bar = region.querySelector("[data-bar]");
      if (bar) { bar.value = data.done; bar.max = data.total || 1; }
      text(region.querySelector("[data-ready]"), data.ready);
      text(region.querySelector("[data-failed]"), data.failed);
      text(region.querySelector("[data-queued-count]"), data.queued);
      if (data.failed !== lastFailed) {
        lastFailed = data.failed;
        var section = document.getElementById("failures");
        var body = section && section.querySelector("[data-failures]");
        if (body) {
          while (body.firstChild) { body.removeChild(body.firstChild); }
          (data.failures || []).forEach(function (f) {
            var tr = document.createElement("tr");
            var th = document.createElement("th");
            th.scope = "row";
            th.setAttribute("data-label", "Person");
            var a = document.createElement("a");
            a.href = base + f.document_id;
            a.textContent = f.person;
            th.appendChild(a);
            var td = document.createElement("td");
            td.setAttribute("data-label", "Reason");
            td.textContent = f.reason || "No reason was recorded";
            tr.appendChild(th);
            tr.appendChild(td);
            body.appendChild(tr);
          });
          section.hidden = !(data.failures && data.failures.length);
        }
      }
      if (data.queued > 0) { return true; }
      region.setAttribute("data-queued", "0");
      var waiting = region.querySelector("[data-waiting]");
      if (waiting) {
        var p = document.createElement("p");
        p.textContent = "Finished.";
        waiting.parentNode.replaceChild(p, waiting);
      }
      return false;
    });
  }

  function start() {
    var doc = document.getElementById("document-status");
    if (doc) { watchDocument(doc); }
    var batch = document.getElementById("batch-progress");
    if (batch) { watchBatch(batch); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
