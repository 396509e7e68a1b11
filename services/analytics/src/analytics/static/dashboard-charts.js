// The charts of the dashboard: Plotly figures (traces and layout) built from report rows.
// Pure functions of the rows; never the only cue is colour (patterns, dashes, markers,
// values written on the chart).

import { FORMATS, isNone } from "./dashboard-format.js";

const HOUR_MS = 3600 * 1000;
// the length of each interval, for Plotly to draw a period's bars and points across it
const PERIODS = { hour: HOUR_MS, day: 24 * HOUR_MS, week: 7 * 24 * HOUR_MS, month: "M1" };
const PERIOD_MS = { ...PERIODS, month: 31 * 24 * HOUR_MS };
// Okabe-Ito: told apart with most colour-vision deficiencies; never the only cue.
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const SYMBOLS = ["circle", "square", "triangle-up", "diamond", "x", "star", "cross"];
const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
const PATTERNS = ["", "/", "x", ".", "\\", "+", "-"];

function layout(extra) {
  return {
    autosize: true,
    margin: { l: 56, r: 16, t: 16, b: 48 },
    font: { family: "system-ui, sans-serif", size: 13, color: "#1a1a1a" },
    legend: { orientation: "h", y: -0.2 },
    barmode: "group",
    hovermode: "closest",
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    ...extra,
  };
}

function seriesStyle(index, of, measure) {
  const colour = COLOURS[(of > 1 ? index : measure) % COLOURS.length];
  return { colour, symbol: SYMBOLS[index % SYMBOLS.length] };
}

function traceName(label, measure, groups) {
  return groups.length === 1 && label === "all calls" ? measure : `${label} · ${measure}`;
}

function directLabels(values, format) {
  // every point labelled when there are few, else the last one only
  return values.map((v, i) =>
    isNone(v) || (values.length > 12 && i !== values.length - 1) ? "" : format(v),
  );
}

// from the first period with calls to the end of the last (the caption names the range)
function timeAxis(groups, range) {
  const starts = groups.flatMap(([, rows]) => rows.map((row) => Date.parse(row.period_start)));
  const period = PERIOD_MS[range.interval];
  const first = new Date(Math.min(...starts)).toISOString();
  const last = new Date(Math.max(...starts) + period).toISOString();
  const axis = { type: "date", range: [FORMATS.period(first), FORMATS.period(last)] };
  const few = (Date.parse(last) - Date.parse(first)) / period <= 12;
  // a tick at each period's start when there are few, not at minutes within one
  return few ? { ...axis, tick0: FORMATS.period(first), dtick: PERIODS[range.interval] } : axis;
}

function overPeriods(range) {
  return { xperiod: PERIODS[range.interval], xperiodalignment: "middle" };
}

// bars of a period side by side across 80 % of it (with a width, Plotly no longer groups)
function besideEachOther(index, of, range) {
  const width = (PERIOD_MS[range.interval] * 0.8) / of;
  return { width, offset: -0.4 * PERIOD_MS[range.interval] + index * width };
}

function volumeFigure(groups, range) {
  const measures = ["offered", "answered", "abandoned"];
  const traces = groups.flatMap(([label, rows], g) =>
    measures.map((measure, m) => ({
      type: "bar",
      ...overPeriods(range),
      ...besideEachOther(g * measures.length + m, groups.length * measures.length, range),
      name: traceName(label, measure, groups),
      x: rows.map((row) => FORMATS.period(row.period_start)),
      y: rows.map((row) => row[measure]),
      text: rows.map((row) => String(row[measure])),
      textposition: "outside",
      constraintext: "none",
      cliponaxis: false,
      marker: {
        color: seriesStyle(g, groups.length, m).colour,
        line: { color: "#1a1a1a", width: 1 },
        pattern: { shape: PATTERNS[m], fillmode: "overlay", fgcolor: "#ffffff", size: 8 },
      },
    })),
  );
  const yaxis = { title: { text: "calls" }, rangemode: "tozero" };
  return { traces, layout: { xaxis: timeAxis(groups, range), yaxis } };
}

function lineTrace(name, rows, values, format, style, dash, range) {
  return {
    type: "scatter",
    ...overPeriods(range),
    mode: "lines+markers+text",
    name,
    x: rows.map((row) => FORMATS.period(row.period_start)),
    y: values,
    text: directLabels(values, format),
    textposition: "top center",
    cliponaxis: false,
    line: { color: style.colour, dash, width: 2 },
    marker: { symbol: style.symbol, size: 9, color: style.colour },
    connectgaps: false,
  };
}

function serviceLevelFigure(groups, range, threshold, goal) {
  const traces = groups.map(([label, rows], g) => {
    const values = rows.map((row) => (isNone(row.service_level) ? null : row.service_level * 100));
    const style = seriesStyle(g, groups.length, 0);
    const dash = DASHES[g % DASHES.length];
    return lineTrace(label, rows, values, (v) => `${v.toFixed(0)} %`, style, dash, range);
  });
  return {
    traces,
    layout: {
      xaxis: timeAxis(groups, range),
      yaxis: { title: { text: `answered within ${threshold} s (%)` }, range: [0, 110] },
      shapes: [horizontal(goal, "dash")],
      annotations: [lineLabel(goal, `goal ${goal} %`)],
    },
  };
}

function handlingFigure(groups, range, threshold) {
  const traces = groups.flatMap(([label, rows], g) =>
    [
      ["ASA", "asa_s", "solid"],
      ["AHT", "aht_s", "dash"],
    ].map(([measure, key, dash], m) => {
      const values = rows.map((row) => row[key]);
      const style = seriesStyle(g, groups.length, m);
      if (groups.length === 1) style.symbol = SYMBOLS[m];
      const name = traceName(label, measure, groups);
      return lineTrace(name, rows, values, (v) => `${v.toFixed(0)} s`, style, dash, range);
    }),
  );
  return {
    traces,
    layout: {
      xaxis: timeAxis(groups, range),
      yaxis: { title: { text: "seconds" }, rangemode: "tozero" },
      shapes: [horizontal(threshold, "dot")],
      annotations: [lineLabel(threshold, `T = ${threshold} s (service-level threshold)`)],
    },
  };
}

function horizontal(y, dash) {
  return {
    type: "line",
    xref: "paper",
    x0: 0,
    x1: 1,
    y0: y,
    y1: y,
    line: { color: "#444444", width: 2, dash },
  };
}

function lineLabel(y, text) {
  return { xref: "paper", x: 0, y, text, showarrow: false, xanchor: "left", yanchor: "bottom" };
}

function horizontalBars(labels, values, text, name) {
  return {
    type: "bar",
    orientation: "h",
    name,
    y: labels,
    x: values,
    text,
    textposition: "auto",
    marker: { color: COLOURS[0], line: { color: "#1a1a1a", width: 1 } },
  };
}

function queuesFigure(queues) {
  const labels = queues.map((q) => `${q.topic} · ${q.language} (${q.direction})`);
  const text = queues.map(
    (q) => `${q.waiting} waiting, longest ${FORMATS.seconds(q.longest_wait_s)}, ${q.agents_available} agents`,
  );
  const traces = [horizontalBars(labels, queues.map((q) => q.waiting), text, "waiting calls")];
  return { traces, layout: { xaxis: { title: { text: "waiting calls" } }, margin: { l: 140, r: 16, t: 16, b: 48 }, showlegend: false } };
}

function skillsFigure(skills) {
  const traces = [
    horizontalBars(
      skills.map((s) => s.skill),
      skills.map((s) => s.agents_available),
      skills.map((s) => String(s.agents_available)),
      "agents available",
    ),
  ];
  return { traces, layout: { xaxis: { title: { text: "agents available" }, dtick: 1 }, margin: { l: 140, r: 16, t: 16, b: 48 }, showlegend: false } };
}

function surveyFigure(rows, groupBy) {
  const labels = rows.map((row) => `${FORMATS.text(row[groupBy])} (n=${row.responses})`);
  const bars = [
    ["NPS", rows.map((row) => row.nps), (v) => v.toFixed(0)],
    ["CSAT % satisfied", rows.map((row) => (isNone(row.csat) ? null : row.csat * 100)), (v) => `${v.toFixed(0)} %`],
  ];
  const traces = bars.map(([name, values, format], m) => ({
    type: "bar",
    name,
    x: labels,
    y: values,
    text: values.map((v) => (isNone(v) ? "" : format(v))),
    textposition: "outside",
    constraintext: "none",
    cliponaxis: false,
    marker: {
      color: COLOURS[m],
      line: { color: "#1a1a1a", width: 1 },
      pattern: { shape: PATTERNS[m], fillmode: "overlay", fgcolor: "#ffffff", size: 8 },
    },
  }));
  return {
    traces,
    layout: {
      yaxis: { title: { text: "NPS (−100…100) · CSAT (%)" }, range: [-110, 115], zeroline: true },
      xaxis: { type: "category", automargin: true },
    },
  };
}

export {
  HOUR_MS,
  layout,
  volumeFigure,
  serviceLevelFigure,
  handlingFigure,
  queuesFigure,
  skillsFigure,
  surveyFigure,
};
