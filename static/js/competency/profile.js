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
      labels: radar && window.lenteraRadarLabels ? window.lenteraRadarLabels(data.labels) : data.labels,
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
          backgroundColor: radar ? "transparent"
            : (window.lenteraHatch ? window.lenteraHatch(chart.warning) : chart.warning + "88"),
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
      // A phone gets a square chart: the labels around a radar need the height.
      maintainAspectRatio: true,
      aspectRatio: window.innerWidth < 576 ? 0.9 : 2,
      plugins: { legend: { position: "bottom" } },
      scales: radar
        ? { r: { min: 0, max: data.max, ticks: { stepSize: 1 },
                 pointLabels: { font: { size: window.innerWidth < 576 ? 10 : 12 } } } }
        : { y: { min: 0, max: data.max, ticks: { stepSize: 1 } } },
    },
  });
})();
