// Charts of the HR dashboard: completions per month and the JP distribution. The data
// comes from the months canvas's data-chart attribute (no inline scripts: the CSP forbids
// them); the tables beside the charts show the same figures and links for keyboards and
// screen readers. Selecting a bar of the distribution opens the employees behind it.
(function () {
  "use strict";
  // The gap heatmap arrives after the page (it reads every profile row of the scope).
  const heat = document.getElementById("heatmap");
  if (heat && heat.dataset.heatmapUrl && window.fetch) {
    fetch(heat.dataset.heatmapUrl, { credentials: "same-origin",
                                     headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        heat.innerHTML = html;
      })
      .catch(function () {
        // The link to the heatmap page stays.
      });
  }
})();

(function () {
  "use strict";
  const months = document.getElementById("chart-months");
  const bands = document.getElementById("chart-bands");
  if (!months || typeof window.Chart === "undefined") {
    return;
  }
  let data;
  try {
    data = JSON.parse(months.dataset.chart || "{}");
  } catch (error) {
    return;
  }
  const styles = getComputedStyle(document.documentElement);
  const primary = styles.getPropertyValue("--lentera").trim() || "#0f766e";
  // A dark amber: Bootstrap's warning yellow is too faint on white for bars and lines.
  const accent = "#b45309";

  if (data.months && data.months.labels.length) {
    new window.Chart(months, {
      type: "bar",
      data: {
        labels: data.months.labels,
        datasets: [
          { type: "bar", label: data.months.countLabel, data: data.months.counts,
            backgroundColor: primary, yAxisID: "y" },
          { type: "line", label: data.months.jpLabel, data: data.months.jp,
            borderColor: accent, backgroundColor: accent, yAxisID: "y1", tension: 0.2 },
        ],
      },
      options: {
        responsive: true,
        animation: false,
        scales: {
          y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } },
        },
      },
    });
  } else {
    months.hidden = true;
  }

  if (bands && data.bands) {
    new window.Chart(bands, {
      type: "bar",
      data: {
        labels: data.bands.labels,
        datasets: [{ label: data.bands.label, data: data.bands.counts,
                     // Bands below the target are hatched as well as coloured.
                     backgroundColor: data.bands.labels.map(function (_l, i) {
                       return i >= 3 || !window.lenteraHatch ? (i >= 3 ? primary : accent)
                         : window.lenteraHatch(accent);
                     }),
                     borderColor: data.bands.labels.map(function (_l, i) {
                       return i >= 3 ? primary : accent;
                     }),
                     borderWidth: 1.5 }],
      },
      options: {
        responsive: true,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        onClick: function (_event, elements) {
          if (elements.length && data.bands.urls[elements[0].index]) {
            window.location.href = data.bands.urls[elements[0].index];
          }
        },
      },
    });
  }
})();
