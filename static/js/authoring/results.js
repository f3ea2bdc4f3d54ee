// Difficulty per question as a bar chart (Chart.js, vendored in static/vendor/chartjs).
const canvas = document.getElementById("item-chart");
if (canvas && window.Chart) {
  const labels = JSON.parse(canvas.dataset.labels);
  const values = JSON.parse(canvas.dataset.values);
  new window.Chart(canvas, {
    type: "bar",
    data: { labels, datasets: [{ label: canvas.dataset.label, data: values }] },
    options: { scales: { y: { min: 0, max: 1 } }, animation: false },
  });
}
