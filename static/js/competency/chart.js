// What the competency profile and the assessment results charts share: the figures come
// from the canvas's data-chart attribute (the CSP forbids inline scripts), the colours
// from the theme. The table beside each chart shows the same figures for screen readers.
// Returns null, drawing nothing, when there is no canvas, no Chart.js or no figures.
window.lenteraChartData = function (id) {
  "use strict";
  const canvas = document.getElementById(id);
  if (!canvas || typeof window.Chart === "undefined") {
    return null;
  }
  let data;
  try {
    data = JSON.parse(canvas.dataset.chart || "{}");
  } catch (error) {
    return null;
  }
  if (!data.labels || data.labels.length === 0) {
    canvas.hidden = true;
    return null;
  }
  const styles = getComputedStyle(document.documentElement);
  return {
    canvas: canvas,
    data: data,
    primary: styles.getPropertyValue("--bs-primary").trim() || "#0d6efd",
    // Bootstrap's warning yellow is too faint on white for a line (WCAG asks 3:1 of
    // graphics): a dark amber instead.
    warning: "#b45309",
  };
};
