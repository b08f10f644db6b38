// Staffroom insights: small enhancements only; every page works without this file.
(function () {
  "use strict";
  // Filters apply as soon as they change.
  document.querySelectorAll("form.filters select").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // Tell tests and screen readers how many charts are on the page.
  var charts = document.querySelectorAll("svg.chart");
  document.documentElement.setAttribute("data-charts", String(charts.length));
})();
