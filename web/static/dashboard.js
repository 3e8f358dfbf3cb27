// Draws the dashboard's charts from the page's JSON data block (no inline scripts: the CSP allows
// only files from the console). Tooltips are plain text (richText): ECharts' HTML tooltips carry
// inline styles, which the CSP refuses. The tables beside each chart hold the same figures.
(function () {
  "use strict";
  var COLORS = ["#9a3412", "#1d4ed8", "#047857", "#b45309", "#6d28d9", "#be185d", "#0f766e", "#52606d"];

  function pie(rows) {
    return {
      color: COLORS,
      tooltip: { trigger: "item", renderMode: "richText", formatter: "{b}：{c}篇（{d}%）" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: rows.map(function (r) { return { name: r[0], value: r[1] }; }) }]
    };
  }

  function bars(rows) {
    return {
      color: COLORS,
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 10, right: 20, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: {
        type: "category", inverse: true, data: rows.map(function (r) { return r[0]; }),
        axisLabel: { width: 120, overflow: "truncate" }
      },
      series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }) }]
    };
  }

  function trend(t) {
    return {
      color: ["#1d4ed8", "#b91c1c"],
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { data: ["相关", "负面"] },
      grid: { left: 40, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: t.days },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "相关", type: "line", smooth: true, data: t.relevant },
        { name: "负面", type: "line", smooth: true, data: t.negative }
      ]
    };
  }

  function draw() {
    var block = document.getElementById("dash-data");
    if (!block || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    var builders = {
      trend: function () { return trend(data.trend); },
      topics: function () { return bars(data.topics); },
      sources: function () { return bars(data.sources); },
      risks: function () { return pie(data.risks); },
      sentiment: function () { return pie(data.sentiment); },
      media_types: function () { return pie(data.media_types); },
      media_levels: function () { return pie(data.media_levels); }
    };
    var charts = [];
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (el) {
      var build = builders[el.getAttribute("data-chart")];
      if (!build) { return; }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build());
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
