// tradesentry: draw every chart a page holds from its embedded JSON spec.
// The same file runs in the dashboard (served from /static) and inlined in the report,
// so it uses no inline handlers and no network: pages work under a strict CSP and offline.
(function () {
  "use strict";

  function draw(el) {
    if (el.dataset.drawn) return;
    var source = document.getElementById(el.dataset.figure);
    if (!source || typeof Plotly === "undefined") return;
    var spec = JSON.parse(source.textContent);
    el.dataset.drawn = "1";
    Plotly.newPlot(el, spec.data, spec.layout, spec.config || {});
  }

  function start() {
    var charts = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
    if (!("IntersectionObserver" in window)) {
      charts.forEach(draw);
      return;
    }
    // A report may hold dozens of charts: draw each as it comes near the screen.
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          draw(entry.target);
          seen.unobserve(entry.target);
        }
      });
    }, { rootMargin: "600px 0px" });
    charts.forEach(function (el) { seen.observe(el); });
    window.addEventListener("beforeprint", function () { charts.forEach(draw); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
