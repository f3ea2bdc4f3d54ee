// What every chart of Lentera shares, loaded right after Chart.js: charts that do not rely
// on colour alone. Each bar carries its value, written in the page's language (a comma for
// decimals in Bahasa Indonesia); a second and third series of bars are hatched so they differ
// in pattern as well as colour (window.lenteraHatch); on a narrow screen the labels around a
// radar are wrapped and shortened so that none is clipped.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  const lang = document.documentElement.lang || "id";
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

  // Diagonal stripes of `color` on white: told apart from a plain bar without colour.
  window.lenteraHatch = function (color, kind) {
    const tile = document.createElement("canvas");
    tile.width = 8;
    tile.height = 8;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    if (kind === "dots") {
      ctx.fillStyle = color;
      ctx.arc(4, 4, 2.2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.moveTo(0, 8);
      ctx.lineTo(8, 0);
      ctx.moveTo(-2, 2);
      ctx.lineTo(2, -2);
      ctx.moveTo(6, 10);
      ctx.lineTo(10, 6);
      ctx.stroke();
    }
    return ctx.createPattern(tile, "repeat");
  };

  // The value of every bar, above it (or beside it in a horizontal bar chart).
  const values = {
    id: "lenteraValues",
    afterDatasetsDraw: function (chart) {
      const ctx = chart.ctx;
      const horizontal = chart.options.indexAxis === "y";
      ctx.save();
      ctx.font = "600 11px system-ui, sans-serif";
      ctx.fillStyle = "#212529";
      chart.data.datasets.forEach(function (dataset, i) {
        const meta = chart.getDatasetMeta(i);
        if (meta.hidden || meta.type !== "bar") {
          return;
        }
        meta.data.forEach(function (bar, j) {
          const value = dataset.data[j];
          if (value === null || value === undefined || Number.isNaN(Number(value))) {
            return;
          }
          const text = number.format(Number(value));
          if (horizontal) {
            ctx.textAlign = "left";
            ctx.textBaseline = "middle";
            ctx.fillText(text, bar.x + 4, bar.y);
          } else {
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            ctx.fillText(text, bar.x, bar.y - 2);
          }
        });
      });
      ctx.restore();
    },
  };
  window.Chart.register(values);

  // Room above the bars for their values.
  window.Chart.defaults.layout.padding = { top: 18, right: 12 };
  window.Chart.defaults.font.size = 12;
  window.Chart.defaults.color = "#212529";

  // Radar labels on a phone: wrapped at word boundaries into lines of at most 14 characters,
  // at most two lines (the full name is in the table beside the chart).
  window.lenteraRadarLabels = function (labels) {
    if (window.innerWidth >= 576) {
      return labels;
    }
    return labels.map(function (label) {
      const lines = [];
      let line = "";
      String(label).split(/\s+/).forEach(function (word) {
        if ((line + " " + word).trim().length > 14 && line) {
          lines.push(line);
          line = word;
        } else {
          line = (line + " " + word).trim();
        }
      });
      if (line) {
        lines.push(line);
      }
      if (lines.length > 2) {
        return [lines[0], lines[1].slice(0, 13) + "…"];
      }
      return lines;
    });
  };
})();
