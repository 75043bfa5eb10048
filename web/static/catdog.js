/* catdog: the little JavaScript the pages use. Everything works without it,
   except live progress and the queue's keyboard shortcuts. */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var ACTIVE = ["pending", "training", "evaluating"];

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; });
  }

  function describe(progress) {
    if (!progress) { return "Waiting for the first epoch"; }
    var text = "Epoch " + progress.epoch + " of " + progress.epochs;
    if (progress.val_accuracy !== null && progress.val_accuracy !== undefined) {
      text += " · validation accuracy " + (progress.val_accuracy * 100).toFixed(1) + "%";
    }
    if (progress.eta_seconds) { text += " · about " + (progress.eta_seconds / 60).toFixed(1) + " min left"; }
    return text;
  }

  function watchRun(box) {
    var url = box.getAttribute("data-poll");
    var epoch = Number(box.getAttribute("data-epoch") || 0);
    function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
    function tick() {
      getJson(url).then(function (run) {
        if (!run) { return; }
        field("status").textContent = run.status;
        var progress = run.progress;
        field("epoch").textContent = describe(progress);
        if (progress) { field("bar").max = progress.epochs; field("bar").value = progress.epoch; }
        var finished = ACTIVE.indexOf(run.status) < 0;
        var newEpoch = progress && progress.epoch !== epoch;
        // The chart and metrics are drawn on the server: reload the run page for them.
        if (finished || (newEpoch && document.getElementById("charts"))) { window.location.reload(); return; }
        if (progress) { epoch = progress.epoch; }
        window.setTimeout(tick, POLL_MS);
      }).catch(function () { window.setTimeout(tick, POLL_MS * 2); });
    }
    window.setTimeout(tick, POLL_MS);
  }

  function waitForRun(box) {
    var url = box.getAttribute("data-wait");
    function tick() {
      getJson(url).then(function (run) {
        if (run) { window.location.reload(); } else { window.setTimeout(tick, POLL_MS); }
      }).catch(function () { window.setTimeout(tick, POLL_MS * 2); });
    }
    window.setTimeout(tick, POLL_MS);
  }

  function labelQueue(form) {
    var token = form.querySelector('input[name="csrf_token"]').value;
    function rows() { return Array.prototype.slice.call(form.querySelectorAll("tbody tr[data-key]")); }
    function current() { return form.querySelector("tbody tr.current"); }
    function select(row) {
      rows().forEach(function (r) { r.classList.remove("current"); });
      if (row) { row.classList.add("current"); row.scrollIntoView({ block: "nearest" }); }
      else { document.getElementById("queue-done").hidden = false; }
    }
    function next(row) {
      var all = rows();
      var index = all.indexOf(row);
      return all[index + 1] || null;
    }
    // The image browser keeps labeled rows and shows their new label (and disagreement).
    function showLabel(row, value) {
      var cell = row.querySelector('[data-field="label"]');
      var badge = document.createElement("span");
      badge.className = "badge badge-" + value;
      badge.textContent = value;
      cell.textContent = "";
      cell.appendChild(badge);
      var predicted = row.getAttribute("data-predicted");
      if (predicted && predicted !== value) {
        var disagree = document.createElement("span");
        disagree.className = "badge badge-disagree";
        disagree.textContent = "disagrees";
        cell.appendChild(document.createTextNode(" "));
        cell.appendChild(disagree);
      }
    }
    function label(row, value) {
      var button = row.querySelector('button[data-label="' + value + '"]');
      var body = new FormData();
      body.append("csrf_token", token);
      body.append("label", value);
      row.setAttribute("aria-busy", "true");
      fetch(button.getAttribute("formaction"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        row.removeAttribute("aria-busy");
        if (!response.ok) { window.alert("Labeling failed (HTTP " + response.status + ")."); return; }
        var following = next(row);
        if (form.getAttribute("data-queue") === "keep") { showLabel(row, value); }
        else { row.parentNode.removeChild(row); }
        select(following);
      });
    }
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && (target.tagName === "INPUT" && target.type !== "checkbox" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) { return; }
      var row = current();
      if (!row) { return; }
      var key = event.key.toLowerCase();
      if (key === "c") { event.preventDefault(); label(row, "cat"); }
      else if (key === "d") { event.preventDefault(); label(row, "dog"); }
      else if (key === "s") { event.preventDefault(); select(next(row)); }
    });
    rows().forEach(function (row) {
      row.addEventListener("click", function (event) {
        if (event.target.tagName !== "BUTTON" && event.target.tagName !== "INPUT" && event.target.tagName !== "A") { select(row); }
      });
    });
  }

  // A form with data-confirm asks first; without JavaScript its required checkbox does.
  function confirmFirst(form) {
    var box = form.querySelector('input[name="confirm"]');
    if (box) { box.closest("label").hidden = true; box.required = false; }
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); return; }
      if (box) { box.checked = true; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), confirmFirst);
    Array.prototype.forEach.call(document.querySelectorAll(".run-progress[data-poll]"), watchRun);
    Array.prototype.forEach.call(document.querySelectorAll("[data-wait]"), waitForRun);
    var queue = document.querySelector("form[data-queue]");
    if (queue) { labelQueue(queue); }
  });
})();
