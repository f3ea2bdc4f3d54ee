// Radar chart of current against required competency levels on the profile page.
// The data comes from the canvas's data-chart attribute (no inline scripts: the CSP
// forbids them); the table beside it shows the same figures for screen readers.
(function () {
  "use strict";
  const canvas = document.getElementById("competency-chart");
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
  const warning = styles.getPropertyValue("--bs-warning").trim() || "#ffc107";
  // A radar needs three axes; with fewer competencies a bar chart reads better.
  const radar = data.labels.length >= 3;
  new window.Chart(canvas, {
    type: radar ? "radar" : "bar",
    data: {
      labels: data.labels,
      datasets: [
        {
          label: data.currentLabel,
          data: data.current,
          backgroundColor: primary + "55",
          borderColor: primary,
          borderWidth: 2,
          pointRadius: 3,
        },
        {
          label: data.requiredLabel,
          data: data.required,
          backgroundColor: radar ? "transparent" : warning + "88",
          borderColor: warning,
          borderDash: radar ? [6, 4] : [],
          borderWidth: 2,
          pointRadius: 2,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: true,
      plugins: { legend: { position: "bottom" } },
      scales: radar
        ? { r: { min: 0, max: data.max, ticks: { stepSize: 1 } } }
        : { y: { min: 0, max: data.max, ticks: { stepSize: 1 } } },
    },
  });
})();
