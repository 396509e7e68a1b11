// Formats of the dashboard's tables (the charts show the same values).

const NONE = "—";
const isNone = (value) => value === null || value === undefined;
const FORMATS = {
  text: (v) => (isNone(v) ? "(none)" : String(v)),
  period: (v) => `${v.slice(0, 10)} ${v.slice(11, 16)}`,
  count: (v) => (isNone(v) ? NONE : String(v)),
  percent: (v) => (isNone(v) ? NONE : `${(v * 100).toFixed(1)} %`),
  seconds: (v) => (isNone(v) ? NONE : `${v.toFixed(1)} s`),
  score: (v) => (isNone(v) ? NONE : v.toFixed(1)),
  mean: (v) => (isNone(v) ? NONE : v.toFixed(2)),
};
const iso = (date) => date.toISOString().replace(".000Z", "Z");
const clock = (date) => date.toISOString().slice(11, 19);

export { NONE, isNone, FORMATS, iso, clock };
