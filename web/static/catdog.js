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

  // A page or fragment of this site as HTML text, or null when it is not there.
  function getHtml(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; });
  }

  function describe(progress) {
    if (!progress || !progress.epochs) { return "Waiting for the first epoch"; }
    var text = "Epoch " + progress.epoch + " of " + progress.epochs;
    if (progress.val_accuracy !== null && progress.val_accuracy !== undefined) {
      text += " · validation accuracy " + (progress.val_accuracy * 100).toFixed(1) + "%";
    }
    if (progress.eta_seconds) { text += " · about " + (progress.eta_seconds / 60).toFixed(1) + " min left"; }
    return text;
  }

  function describePhase(progress) {
    if (!progress) { return "Waiting for the pipeline"; }
    var text = progress.phase_title || progress.phase;
    if ((progress.phase === "decoding" || progress.phase === "scoring") && progress.total) {
      text += (progress.done !== null && progress.done !== undefined ? " " + progress.done + " of" : "") + " " + progress.total + " images";
    }
    return text;
  }

  function describeBatch(progress) {
    if (!progress || !progress.batch) { return ""; }
    var text = "Batch " + progress.batch + " of " + progress.batches;
    if (progress.images_per_second) { text += " · " + progress.images_per_second.toFixed(1) + " images/s"; }
    return text;
  }

  /* Curves drawn in the browser from the run's per-epoch history: two panels (loss,
     accuracy), training solid and validation dashed, gridlines, labelled axes, and the
     values of the nearest epoch on hover. The server draws the same at load (web/charts.py). */
  var SVG = "http://www.w3.org/2000/svg";
  var W = 340, H = 236, L = 48, R = 12, T = 26, B = 52;
  var SERIES = [
    { key: "", name: "training", colour: "#3457d5", dash: "" },
    { key: "val_", name: "validation", colour: "#c9731a", dash: "5 3" }
  ];

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function niceTicks(low, high, count) {
    var step = (high - low) / count, ticks = [];
    for (var i = 0; i <= count; i += 1) { ticks.push(low + step * i); }
    return ticks;
  }

  // Enough decimals that neighbouring ticks read differently (at least two).
  function tickDigits(low, high, count) {
    var step = (high - low) / count;
    return Math.min(6, Math.max(2, Math.ceil(-Math.log10(step)) + 1));
  }

  function panel(title, metric, rows, fixed) {
    var lines = SERIES.map(function (s) {
      return {
        s: s,
        points: rows.filter(function (r) { return typeof r[s.key + metric] === "number"; })
          .map(function (r) { return [r.epoch, r[s.key + metric]]; })
      };
    }).filter(function (line) { return line.points.length; });
    var values = [];
    lines.forEach(function (line) { line.points.forEach(function (p) { values.push(p[1]); }); });
    var low = fixed ? fixed[0] : Math.min.apply(null, values);
    var high = fixed ? fixed[1] : Math.max.apply(null, values);
    if (high - low < 1e-9) { low -= 0.5; high += 0.5; }
    var first = rows[0].epoch, last = rows[rows.length - 1].epoch, span = Math.max(last - first, 1);
    function x(e) { return L + (e - first) / span * (W - L - R); }
    function y(v) { return T + (high - v) / (high - low) * (H - T - B); }
    var svg = el("svg", { "class": "chart chart-live", viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": title + " per epoch", "data-metric": metric });
    svg.appendChild(el("title", {}, title + " per epoch"));
    svg.appendChild(el("text", { x: L, y: 15, "font-weight": "600" }, title));
    var digits = tickDigits(low, high, 4);
    niceTicks(low, high, 4).forEach(function (v) {
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), "class": "grid" }));
      svg.appendChild(el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "class": "tick" }, v.toFixed(digits)));
    });
    var every = Math.max(1, Math.ceil((last - first + 1) / 8));
    for (var e = first; e <= last; e += every) {
      svg.appendChild(el("line", { x1: x(e), x2: x(e), y1: T, y2: H - B, "class": "grid" }));
      svg.appendChild(el("text", { x: x(e), y: H - B + 14, "text-anchor": "middle", "class": "tick" }, String(e)));
    }
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, "class": "axis" }));
    svg.appendChild(el("line", { x1: L, x2: L, y1: T, y2: H - B, "class": "axis" }));
    svg.appendChild(el("text", { x: (L + W - R) / 2, y: H - B + 28, "text-anchor": "middle", "class": "axis-title" }, "epoch"));
    // The hovered (or focused) point's value, under the axis.
    var readout = el("text", { x: L, y: H - 6, "class": "chart-readout" }, "");
    lines.forEach(function (line, index) {
      var coords = line.points.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); }).join(" ");
      svg.appendChild(el("polyline", { points: coords, fill: "none", stroke: line.s.colour, "stroke-width": 2,
        "stroke-dasharray": line.s.dash, "class": "series-" + line.s.name }));
      line.points.forEach(function (p) {
        var tip = line.s.name + " " + metric + ", epoch " + p[0] + ": " + p[1].toFixed(4);
        var dot = el("circle", { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 3.5, fill: line.s.colour, tabindex: 0 });
        dot.appendChild(el("title", {}, tip));
        function show() { readout.textContent = tip; }
        dot.addEventListener("mouseenter", show);
        dot.addEventListener("focus", show);
        svg.appendChild(dot);
      });
      svg.appendChild(el("text", { x: W - R - 160 + index * 80, y: 15, fill: line.s.colour, "class": "legend" }, "— " + line.s.name));
    });
    svg.appendChild(readout);
    svg.addEventListener("mouseleave", function () { readout.textContent = ""; });
    return svg;
  }

  function drawCharts(container, history) {
    var rows = history.filter(function (h) { return typeof h.epoch === "number"; })
      .sort(function (a, b) { return a.epoch - b.epoch; });
    if (!rows.length) { return; }
    container.textContent = "";
    container.appendChild(panel("Loss", "loss", rows, null));
    container.appendChild(panel("Accuracy", "accuracy", rows, [0, 1]));
    container.setAttribute("data-epochs", String(rows.length));
  }

  // The parts of the page outside the progress box that change when the run ends.
  function showEnded(box, run) {
    var status = document.getElementById("run-status");
    if (status) { status.textContent = run.status; }
    var cancel = document.getElementById("cancel-run");
    if (cancel) { cancel.parentNode.removeChild(cancel); }
    var outcome = document.getElementById("run-outcome");
    if (!outcome) {  // the dashboard: point to the run's page for the decision
      var link = document.createElement("a");
      link.href = box.getAttribute("data-run-page");
      link.textContent = "See the decision";
      link.className = "run-ended";
      box.appendChild(link);
      var trainNow = document.getElementById("train-now-form");
      if (trainNow) { trainNow.hidden = false; }  // the lock is free again
      return;
    }
    getHtml(outcome.getAttribute("data-outcome")).then(function (html) {
      if (html === null) { return; }
      outcome.innerHTML = html;
      outcome.setAttribute("data-loaded", run.status);
    });
  }

  function watchRun(box) {
    var url = box.getAttribute("data-poll");
    var charts = document.getElementById("charts");
    function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
    function tick() {
      getJson(url).then(function (run) {
        if (!run) { window.setTimeout(tick, POLL_MS); return; }
        var progress = run.progress;
        var training = progress && progress.epochs;
        field("status").textContent = run.status;
        field("phase").textContent = ACTIVE.indexOf(run.status) < 0 ? "Finished" : describePhase(progress);
        field("epoch").textContent = describe(training ? progress : null);
        var batch = describeBatch(progress);
        field("batch").textContent = batch;
        field("batch").hidden = !batch;
        if (training) {
          field("bar").max = progress.epochs;
          field("bar").value = progress.epoch - 1 + (progress.batch ? progress.batch / progress.batches : 1);
        }
        box.setAttribute("data-status", run.status);
        if (charts && run.history.length && String(run.history.length) !== charts.getAttribute("data-epochs")) {
          drawCharts(charts, run.history);
          document.getElementById("chart-section").hidden = false;
        }
        if (ACTIVE.indexOf(run.status) < 0) { showEnded(box, run); return; }
        window.setTimeout(tick, POLL_MS);
      }).catch(function () { window.setTimeout(tick, POLL_MS * 2); });
    }
    tick();
  }

  // The run page opened before the pipeline created its run: once the run exists, the
  // page's main part is fetched again and swapped in place (no navigation), then watched.
  function waitForRun(box) {
    var url = box.getAttribute("data-wait");
    function swapIn(html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
      var main = document.getElementById("main");
      if (!fresh || !main) { window.location.reload(); return; }
      main.innerHTML = fresh.innerHTML;
      enhance(main);
    }
    function tick() {
      getJson(url).then(function (run) {
        if (!run) { window.setTimeout(tick, POLL_MS); return; }
        return getHtml(window.location.href).then(function (html) {
          if (html === null) { window.setTimeout(tick, POLL_MS); } else { swapIn(html); }
        });
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

  // Everything the script adds to a page, or to a part of it swapped in.
  function enhance(root) {
    Array.prototype.forEach.call(root.querySelectorAll("form[data-confirm]"), confirmFirst);
    Array.prototype.forEach.call(root.querySelectorAll(".run-progress[data-poll]"), watchRun);
    Array.prototype.forEach.call(root.querySelectorAll("[data-wait]"), waitForRun);
    var queue = root.querySelector("form[data-queue]");
    if (queue) { labelQueue(queue); }
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
