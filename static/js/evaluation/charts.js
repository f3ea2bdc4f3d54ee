// Charts of the evaluation reports. Data comes from data-chart attributes (no inline
// scripts: the CSP forbids them); the tables beside the charts hold the same figures.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  const styles = getComputedStyle(document.documentElement);
  const primary = styles.getPropertyValue("--lentera").trim() || "#0f766e";
  // A dark amber: Bootstrap's warning yellow is too faint on white for bars and lines.
  const accent = "#b45309";
  const scale = { min: 0, max: 5, ticks: { stepSize: 1 } };

  function read(element) {
    if (!element) {
      return null;
    }
    try {
      return JSON.parse(element.dataset.chart || "{}");
    } catch (error) {
      return null;
    }
  }

  function bars(canvas, part, color) {
    if (!canvas || !part || !part.labels.length) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: part.labels, datasets: [{ label: part.label, data: part.values, backgroundColor: color }] },
      options: { indexAxis: "y", responsive: true, animation: false, scales: { x: scale },
                 plugins: { legend: { display: false } } },
    });
  }

  const providers = document.getElementById("chart-providers");
  const summary = read(providers);
  if (summary && summary.labels && summary.labels.length) {
    new window.Chart(providers, {
      type: "bar",
      data: {
        labels: summary.labels,
        datasets: [
          { label: summary.reactionLabel, data: summary.reaction, backgroundColor: primary },
          // Hatched: the two levels differ in pattern too, not in colour alone.
          { label: summary.behaviourLabel, data: summary.behaviour, borderColor: accent, borderWidth: 1.5,
            backgroundColor: window.lenteraHatch ? window.lenteraHatch(accent) : accent },
        ],
      },
      options: { responsive: true, animation: false, scales: { y: scale } },
    });
  }

  const report = read(document.getElementById("report-chart-data"));
  if (report) {
    bars(document.getElementById("chart-reaction"), report.reaction, primary);
    bars(document.getElementById("chart-behaviour"), report.behaviour, accent);
  }
})();
