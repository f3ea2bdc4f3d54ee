// Radar chart of current against required competency levels on the profile page; the
// figures and colours come through js/competency/chart.js, which the page loads first.
(function () {
  "use strict";
  const chart = window.lenteraChartData("competency-chart");
  if (!chart) {
    return;
  }
  const data = chart.data;
  // A radar needs three axes; with fewer competencies a bar chart reads better.
  const radar = data.labels.length >= 3;
  new window.Chart(chart.canvas, {
    type: radar ? "radar" : "bar",
    data: {
      labels: data.labels,
      datasets: [
        {
          label: data.currentLabel,
          data: data.current,
          backgroundColor: chart.primary + "55",
          borderColor: chart.primary,
          borderWidth: 2,
          pointRadius: 3,
        },
        {
          label: data.requiredLabel,
          data: data.required,
          backgroundColor: radar ? "transparent" : chart.warning + "88",
          borderColor: chart.warning,
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
