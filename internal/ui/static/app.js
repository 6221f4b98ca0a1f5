// Bridge dashboard: uPlot charts from data-chart attributes, copy buttons,
// and live refresh of <main> by short polling (same URL, X-Bridge-Live).
(function () {
  "use strict";
  var palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
  var plots = [];

  // marksPlugin draws promotions as dashed vertical lines and a threshold
  // as a dashed horizontal one, and records on fig what it drew.
  function marksPlugin(fig, marks, threshold) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          var drawn = 0;
          ctx.save();
          ctx.textAlign = "left";
          ctx.textBaseline = "alphabetic";
          (marks || []).forEach(function (m, i) {
            var x = Math.round(u.valToPos(m.t, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = "#6b7280";
            ctx.setLineDash([4, 3]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = "#374151";
            ctx.font = (11 * devicePixelRatio) + "px sans-serif";
            // Labels take turns on three lines and flip left near the edge.
            var w = ctx.measureText(m.text).width;
            var tx = x + 4 + w > u.bbox.left + u.bbox.width ? x - 4 - w : x + 4;
            ctx.fillText(m.text, tx, u.bbox.top + (12 + 13 * (i % 3)) * devicePixelRatio);
            drawn++;
          });
          fig.setAttribute("data-marks-drawn", String(drawn));
          if (threshold !== undefined && threshold !== null) {
            var y = Math.round(u.valToPos(threshold, "y", true));
            ctx.strokeStyle = "#dc2626";
            ctx.setLineDash([6, 4]);
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            if (y >= u.bbox.top && y <= u.bbox.top + u.bbox.height) fig.setAttribute("data-threshold-drawn", String(threshold));
          }
          ctx.restore();
        }]
      }
    };
  }

  function drawCharts(root) {
    plots.forEach(function (p) { p.destroy(); });
    plots = [];
    if (typeof uPlot === "undefined") return;
    root.querySelectorAll("figure[data-chart]").forEach(function (fig) {
      var c = JSON.parse(fig.getAttribute("data-chart"));
      if (!c.points) return;
      var series = [{}];
      (c.labels || []).forEach(function (l, i) {
        series.push({ label: l, stroke: palette[i % palette.length], width: 1.5, spanGaps: false, points: { show: c.x.length < 40 } });
      });
      var ys = c.y.map(function (s) { return s.slice(); });
      var scaleY = {};
      if (c.threshold !== undefined && c.threshold !== null) {
        scaleY = { range: function (u, lo, hi) {
          lo = Math.min(lo === null ? c.threshold : lo, c.threshold);
          hi = Math.max(hi === null ? c.threshold : hi, c.threshold);
          var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
          return [lo - pad, hi + pad];
        } };
      }
      var opts = {
        width: Math.max(280, fig.clientWidth - 24),
        height: 200,
        series: series,
        scales: { x: c.xmax ? { time: true, range: [c.xmin, c.xmax] } : { time: true }, y: scaleY },
        axes: [{}, { size: 56 }],
        plugins: [marksPlugin(fig, c.marks, c.threshold)],
        legend: { live: true }
      };
      var p = new uPlot(opts, [c.x].concat(ys), fig);
      fig.setAttribute("data-drawn", String(c.points));
      plots.push(p);
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing to do */ }
    ta.remove();
    return Promise.resolve();
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button.copy");
    if (!b) return;
    copyText(b.getAttribute("data-copy")).then(function () {
      b.textContent = "copied";
      setTimeout(function () { b.textContent = "copy curl"; }, 1500);
    }, function () { b.textContent = "copy failed"; });
  });

  function busy(main) {
    var a = document.activeElement;
    if (a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(a.tagName)) return true;
    return main.querySelector("details[open]") !== null;
  }

  function live() {
    var main = document.getElementById("live");
    if (!main) return;
    var every = parseInt(main.getAttribute("data-refresh"), 10);
    if (!every) return;
    var inflight = false;
    setInterval(function () {
      if (document.hidden || inflight || busy(main)) return;
      inflight = true;
      fetch(location.href, { headers: { "X-Bridge-Live": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.text().then(function (t) { return { ok: r.ok || r.status === 404, text: t }; }); })
        .then(function (r) {
          if (!r.ok) return;
          main.innerHTML = r.text;
          main.setAttribute("data-refreshed", String(Date.now()));
          drawCharts(main);
        }, function () {
          main.setAttribute("data-offline", String(Date.now()));
        })
        .then(function () { inflight = false; });
    }, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
    live();
  });
})();
