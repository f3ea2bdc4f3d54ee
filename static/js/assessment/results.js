// Bar chart of self against others per competency (assessment results). Data from the
// canvas's data-chart attribute (the CSP forbids inline scripts); the table beside it
// shows the same figures for screen readers.
(function () {
  "use strict";
  const canvas = document.getElementById("assessment-chart");
  if (!canvas || typeof window.Chart === "undefined") {
    return;
  }
  let data;
  try {
    data = JSON.parse(canvas.dataset.chart || "{}");
  } catch (error) {
    return;
  }
  if (!data.labels || data.labels.length === 0) {
    canvas.hidden = true;
    return;
  }
  const styles = getComputedStyle(document.documentElement);
  const primary = styles.getPropertyValue("--bs-primary").trim() || "#0d6efd";
  const secondary = styles.getPropertyValue("--bs-warning").trim() || "#ffc107";
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.selfLabel, data: data.self, backgroundColor: secondary },
        { label: data.othersLabel, data: data.others, backgroundColor: primary },
      ],
    },
    options: {
      indexAxis: "y",
      animation: false,
      scales: { x: { min: 0, max: data.max, ticks: { stepSize: 1 } } },
    },
  });
})();
