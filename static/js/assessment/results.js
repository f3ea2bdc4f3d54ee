// Bar chart of self against others per competency (assessment results); the figures and
// colours come through js/competency/chart.js, which the page loads first.
(function () {
  "use strict";
  const chart = window.lenteraChartData("assessment-chart");
  if (!chart) {
    return;
  }
  const data = chart.data;
  new window.Chart(chart.canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        // Hatched: self and others differ in pattern too, not in colour alone.
        { label: data.selfLabel, data: data.self, borderColor: chart.warning, borderWidth: 1.5,
          backgroundColor: window.lenteraHatch ? window.lenteraHatch(chart.warning) : chart.warning },
        { label: data.othersLabel, data: data.others, backgroundColor: chart.primary },
      ],
    },
    options: {
      indexAxis: "y",
      animation: false,
      scales: { x: { min: 0, max: data.max, ticks: { stepSize: 1 } } },
    },
  });
})();
