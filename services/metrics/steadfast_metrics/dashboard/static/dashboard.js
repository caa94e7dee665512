// The dashboard's only script: the GOV.UK components' behaviour, and the charts drawn from the data the
// page carries (data-series / data-chart attributes; every chart's figures are also in the page as text
// or in a table, so nothing depends on this script to be read).
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

const Chart = window.Chart;
const DAY = 24 * 60 * 60 * 1000;

function time(iso) {
  return Date.parse(`${iso}T00:00:00Z`);
}

function dayLabel(ms) {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

function sparklines() {
  for (const canvas of document.querySelectorAll("canvas.sf-sparkline")) {
    const series = JSON.parse(canvas.dataset.series);
    new Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          data: series.filter(([, y]) => y !== null).map(([x, y]) => ({ x: time(x), y })),
          borderColor: "#1d70b8",
          borderWidth: 2,
          pointRadius: 0,
          tension: 0.2,
        }],
      },
      options: {
        animation: false,
        responsive: false,
        events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { type: "linear", display: false }, y: { display: false } },
      },
    });
  }
}

function trendChart() {
  const canvas = document.getElementById("kpi-chart");
  if (!canvas) return;
  const data = JSON.parse(canvas.dataset.chart);
  const points = (rows) => rows.filter((p) => p.y !== null).map((p) => ({ x: time(p.x), y: p.y }));
  new Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        { label: data.title, data: points(data.values), borderColor: "#1d70b8", backgroundColor: "#1d70b8", borderWidth: 3, pointRadius: 2 },
        { label: "Target", data: points(data.targets), borderColor: "#00703c", borderDash: [8, 4], borderWidth: 2, pointRadius: 0, stepped: true },
        { label: "Milestones", data: points(data.milestones), borderColor: "#00703c", backgroundColor: "#00703c", showLine: false, pointStyle: "rectRot", pointRadius: 6 },
        { label: "Forecast", data: points(data.forecast), borderColor: "#d4351c", borderDash: [3, 3], borderWidth: 2, pointRadius: 3 },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: false },
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { title: (items) => dayLabel(items[0].parsed.x) } },
      },
      scales: {
        x: { type: "linear", ticks: { callback: (value) => dayLabel(value), maxTicksLimit: 8, stepSize: 30 * DAY } },
        y: { title: { display: true, text: data.unit } },
      },
    },
  });
}

if (Chart) {
  sparklines();
  trendChart();
}
