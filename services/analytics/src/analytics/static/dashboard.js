// The analysts' dashboard: reads the analytics query API with the key entered once, draws
// each report with Plotly and lists its exact numbers in a table. No build step, no inline
// code (the page's Content-Security-Policy allows scripts from this service only). An ES module
// with its charts and formats beside it; Plotly is the global the script before it defines.

import {
  HOUR_MS,
  layout,
  volumeFigure,
  serviceLevelFigure,
  handlingFigure,
  queuesFigure,
  skillsFigure,
  surveyFigure,
} from "./dashboard-charts.js";
import { FORMATS, clock, isNone, iso } from "./dashboard-format.js";

const TOKEN_KEY = "callcenter.dashboard.token";
const TENANT_KEY = "callcenter.dashboard.tenant";
const QUEUES_EVERY_MS = 5000;
const MAX_PAGE = 10000;
const MAX_GROUPS = 6;
const RANGES = {
  "24h": { hours: 24, interval: "hour" },
  "7d": { hours: 24 * 7, interval: "day" },
  "30d": { hours: 24 * 30, interval: "day" },
};
const EMPTY = {
  calls: "No calls in this range — pick another range or check the tenant.",
  queues: "No calls waiting right now.",
  skills: "No agents available for this tenant right now.",
  answers: "No answers to this survey in this range — pick another range or another survey.",
  segments:
    "No target-group attributes in this survey's answers: they come from the customer " +
    "records (PUT /v1/customers/{ref} on the surveys service).",
  surveys:
    "No surveys for this tenant yet — create one with POST /v1/surveys on the surveys " +
    "service; its answers show up here.",
  tenants: "No tenants yet — create one with POST /v1/tenants on the intake service.",
};

const $ = (id) => document.getElementById(id);
const state = {
  token: null,
  operator: false,
  tenant: null,
  tenants: [],
  surveys: [],
  generation: 0,
  queuesTimer: null,
};

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// ---- the query API ------------------------------------------------------------------

async function api(path, accept = "application/json") {
  let answer;
  try {
    answer = await fetch(path, {
      headers: { Authorization: `Bearer ${state.token}`, Accept: accept },
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, `The analytics service did not answer (${error.message}).`);
  }
  if (!answer.ok) throw new ApiError(answer.status, await problemDetail(answer));
  return accept === "application/json" ? answer.json() : answer.blob();
}

async function problemDetail(answer) {
  try {
    const problem = await answer.json();
    return problem.detail || problem.title || `HTTP ${answer.status}`;
  } catch {
    return `HTTP ${answer.status} ${answer.statusText}`;
  }
}

function query(path, params) {
  if (state.operator && state.tenant) params.set("tenant_id", state.tenant);
  return `${path}?${params}`;
}

// ---- panels: a chart, its table, its CSV ---------------------------------------------

function panelParts(panel) {
  if (!panel.querySelector(".chart")) {
    const title = panel.querySelector("h3");
    panel.insertAdjacentHTML(
      "beforeend",
      `<p class="note"></p>
       <div class="chart" role="img" aria-label="Chart of the numbers in the table below"></div>
       <p class="empty" hidden></p>
       <div class="table-wrap" role="region" tabindex="0" aria-label="${title.textContent}">
         <table><caption></caption><thead></thead><tbody></tbody></table>
       </div>
       <p class="download"><a class="csv" href="#">Download CSV</a></p>`,
    );
    panel.querySelector("a.csv").addEventListener("click", downloadCsv);
  }
  return {
    note: panel.querySelector(".note"),
    chart: panel.querySelector(".chart"),
    empty: panel.querySelector(".empty"),
    wrap: panel.querySelector(".table-wrap"),
    table: panel.querySelector("table"),
    link: panel.querySelector("a.csv"),
  };
}

function showPanel(id, { url, file, columns, rows, caption, note, empty, figure }) {
  const panel = $(id);
  const parts = panelParts(panel);
  panel.dataset.query = url || "";
  parts.link.hidden = !url;
  parts.link.href = url || "#";
  parts.link.dataset.query = url || "";
  parts.link.dataset.file = file || "report.csv";
  parts.note.textContent = note || "";
  const nothing = rows.length === 0;
  parts.empty.textContent = nothing ? empty : "";
  parts.empty.hidden = !nothing;
  parts.wrap.hidden = nothing;
  parts.chart.hidden = nothing;
  fillTable(parts.table, caption, columns, rows);
  if (nothing || !window.Plotly) {
    if (window.Plotly) window.Plotly.purge(parts.chart);
    return;
  }
  const drawn = figure();
  window.Plotly.react(parts.chart, drawn.traces, layout(drawn.layout), {
    displayModeBar: false,
    responsive: true,
  });
}

function fillTable(table, caption, columns, rows) {
  table.querySelector("caption").textContent = caption;
  const head = document.createElement("tr");
  for (const column of columns) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = column.label;
    head.append(cell);
  }
  table.querySelector("thead").replaceChildren(head);
  table.querySelector("tbody").replaceChildren(...rows.map((row) => tableRow(columns, row)));
}

function tableRow(columns, row) {
  const line = document.createElement("tr");
  columns.forEach((column, index) => {
    const cell = document.createElement(index === 0 ? "th" : "td");
    if (index === 0) cell.scope = "row";
    const value = row[column.key];
    cell.dataset.key = column.key;
    cell.dataset.value = JSON.stringify(isNone(value) ? null : value);
    cell.textContent = FORMATS[column.format](value);
    line.append(cell);
  });
  return line;
}

async function downloadCsv(event) {
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const blob = await api(link.dataset.query, "text/csv");
    const url = URL.createObjectURL(blob);
    const save = document.createElement("a");
    save.href = url;
    save.download = link.dataset.file;
    document.body.append(save);
    save.click();
    save.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (error) {
    failed(error);
  }
}

// ---- the calls: volume, service level, ASA and AHT -----------------------------------

function currentRange() {
  const interval = $("interval").value;
  if ($("range").value === "custom") {
    return { from: `${$("from").value}:00Z`, to: `${$("to").value}:00Z`, interval };
  }
  const end = new Date();
  end.setUTCMinutes(0, 0, 0);
  const to = new Date(end.getTime() + HOUR_MS);
  const from = new Date(to.getTime() - RANGES[$("range").value].hours * HOUR_MS);
  return { from: iso(from), to: iso(to), interval };
}

function grouped(rows, groupBy) {
  const groups = new Map();
  for (const row of rows) {
    const label = groupBy ? FORMATS.text(row[groupBy]) : "all calls";
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(row);
  }
  const offered = (members) => members.reduce((sum, row) => sum + row.offered, 0);
  return [...groups.entries()].sort((a, b) => offered(b[1]) - offered(a[1]));
}

function groupNote(groups) {
  return groups.length > MAX_GROUPS
    ? `The chart shows the ${MAX_GROUPS} largest of ${groups.length} groups; the table lists all.`
    : "";
}

async function renderCalls(range, generation) {
  const groupBy = $("group").value;
  const params = new URLSearchParams({ from: range.from, to: range.to, interval: range.interval });
  if (groupBy) params.set("group_by", groupBy);
  const url = query("/v1/analytics/calls", params);
  const report = await api(`${url}&limit=${MAX_PAGE}`);
  if (generation !== state.generation) return;
  const rows = report.rows;
  const groups = grouped(rows, groupBy);
  const shared = { url, file: `calls-${range.from}-${range.to}.csv`, rows, empty: EMPTY.calls };
  const more = report.next_cursor ? ` Only the first ${MAX_PAGE} rows are shown.` : "";
  const note = `${groupNote(groups)}${more}`;
  const lead = [{ key: "period_start", label: "Period (UTC)", format: "period" }];
  if (groupBy) lead.push({ key: groupBy, label: groupBy, format: "text" });
  const threshold = currentTenant().service_level_threshold_s;
  showPanel("panel-volume", {
    ...shared,
    note,
    caption: `Calls per ${range.interval}, ${describe(range)}`,
    columns: [
      ...lead,
      { key: "offered", label: "Offered", format: "count" },
      { key: "answered", label: "Answered", format: "count" },
      { key: "abandoned", label: "Abandoned", format: "count" },
      { key: "abandonment_rate", label: "Abandonment rate", format: "percent" },
    ],
    figure: () => volumeFigure(groups.slice(0, MAX_GROUPS), range),
  });
  showPanel("panel-service-level", {
    ...shared,
    note: `Share of calls answered within T = ${threshold} s, the tenant's threshold. ${note}`,
    caption: `Service level per ${range.interval} (T = ${threshold} s), ${describe(range)}`,
    columns: [
      ...lead,
      { key: "answered_within_threshold", label: `Answered within ${threshold} s`, format: "count" },
      { key: "service_level", label: "Service level", format: "percent" },
    ],
    figure: () => serviceLevelFigure(groups.slice(0, MAX_GROUPS), range, threshold, goal()),
  });
  showPanel("panel-handling", {
    ...shared,
    note,
    caption: `Average speed of answer and handle time per ${range.interval}, ${describe(range)}`,
    columns: [
      ...lead,
      { key: "asa_s", label: "ASA", format: "seconds" },
      { key: "aht_s", label: "AHT", format: "seconds" },
    ],
    figure: () => handlingFigure(groups.slice(0, MAX_GROUPS), range, threshold),
  });
}

function describe(range) {
  return `from ${range.from} to ${range.to}`;
}









// ---- the queues now, refreshed by themselves -----------------------------------------

async function refreshQueues(generation) {
  const url = query("/v1/analytics/realtime", new URLSearchParams());
  const report = await api(url);
  if (generation !== state.generation) return;
  showPanel("panel-queues", {
    url,
    file: "queues.csv",
    rows: report.queues,
    empty: EMPTY.queues,
    caption: `Queues at ${report.now}`,
    columns: [
      { key: "topic", label: "Topic", format: "text" },
      { key: "language", label: "Language", format: "text" },
      { key: "direction", label: "Direction", format: "text" },
      { key: "waiting", label: "Waiting", format: "count" },
      { key: "longest_wait_s", label: "Longest wait", format: "seconds" },
      { key: "agents_available", label: "Agents available", format: "count" },
    ],
    figure: () => queuesFigure(report.queues),
  });
  showPanel("panel-skills", {
    url: query("/v1/analytics/realtime", new URLSearchParams({ table: "skills" })),
    file: "skills.csv",
    rows: report.skills,
    empty: EMPTY.skills,
    caption: `Available agents per skill at ${report.now}`,
    columns: [
      { key: "skill", label: "Skill", format: "text" },
      { key: "agents_available", label: "Agents available", format: "count" },
    ],
    figure: () => skillsFigure(report.skills),
  });
  const updated = $("queues-updated");
  updated.textContent = `Refreshes by itself every ${QUEUES_EVERY_MS / 1000} s; last at ${clock(new Date(report.now))} UTC.`;
  updated.dataset.refreshes = String(Number(updated.dataset.refreshes || 0) + 1);
}



function scheduleQueues() {
  window.clearTimeout(state.queuesTimer);
  state.queuesTimer = window.setTimeout(async () => {
    if (!state.token) return;
    try {
      await refreshQueues(state.generation);
    } catch (error) {
      failed(error);
    }
    scheduleQueues();
  }, QUEUES_EVERY_MS);
}

// ---- what customers think: NPS and CSAT by question, campaign, target group ----------

async function renderSurveys(range, generation) {
  const listed = await api(query("/v1/analytics/surveys", new URLSearchParams()));
  if (generation !== state.generation) return;
  state.surveys = listed.surveys;
  const chosen = chooseSurvey();
  $("no-surveys").hidden = Boolean(chosen);
  $("no-surveys").textContent = chosen ? "" : EMPTY.surveys;
  $("survey-controls").hidden = !chosen;
  for (const id of ["panel-by-question", "panel-by-campaign", "panel-by-segment"]) {
    $(id).hidden = !chosen;
  }
  if (!chosen) return;
  const attribute = chooseSegment(chosen);
  const groups = [
    ["panel-by-question", "question", "Question"],
    ["panel-by-campaign", "campaign", "Campaign"],
    ["panel-by-segment", attribute ? `segment.${attribute}` : null, attribute || "Target group"],
  ];
  await Promise.all(groups.map(([id, groupBy, label]) => renderSurvey(id, chosen, groupBy, label, range, generation)));
}

function chooseSurvey() {
  const select = $("survey");
  const before = select.value;
  select.replaceChildren(
    ...state.surveys.map((survey) => {
      const questions = survey.questions.map((q) => q.question_id).join(", ");
      return new Option(`${survey.survey_id} (${questions}; ${survey.responses} responses)`, survey.survey_id);
    }),
  );
  const busiest = [...state.surveys].sort((a, b) => b.responses - a.responses)[0];
  const keep = state.surveys.find((survey) => survey.survey_id === before) || busiest;
  if (keep) select.value = keep.survey_id;
  return keep || null;
}

function chooseSegment(survey) {
  const select = $("segment");
  const before = select.value;
  select.replaceChildren(...survey.segment_attributes.map((name) => new Option(name, name)));
  select.disabled = survey.segment_attributes.length === 0;
  if (survey.segment_attributes.includes(before)) select.value = before;
  return select.value || null;
}

async function renderSurvey(id, survey, groupBy, label, range, generation) {
  if (!groupBy) {
    showPanel(id, { url: null, rows: [], empty: EMPTY.segments, caption: "", columns: [] });
    return;
  }
  const params = new URLSearchParams({ from: range.from, to: range.to, group_by: groupBy });
  const url = query(`/v1/analytics/surveys/${encodeURIComponent(survey.survey_id)}`, params);
  const report = await api(`${url}&limit=${MAX_PAGE}`);
  if (generation !== state.generation) return;
  showPanel(id, {
    url,
    file: `survey-${survey.survey_id}-by-${groupBy}.csv`,
    rows: report.rows,
    empty: EMPTY.answers,
    caption: `Survey ${survey.survey_id} by ${label}, answers ${describe(range)}`,
    columns: [
      { key: groupBy, label, format: "text" },
      { key: "responses", label: "Responses", format: "count" },
      { key: "nps_answers", label: "NPS answers", format: "count" },
      { key: "nps", label: "NPS", format: "score" },
      { key: "csat_answers", label: "CSAT answers", format: "count" },
      { key: "csat", label: "CSAT (4 and 5)", format: "percent" },
      { key: "csat_mean", label: "CSAT mean", format: "mean" },
    ],
    figure: () => surveyFigure(report.rows, groupBy),
  });
}

// ---- signing in, choosing, refreshing ------------------------------------------------

function goal() {
  return Number($("goal").value) || 80;
}

function currentTenant() {
  return state.tenants.find((t) => t.tenant_id === state.tenant) || { service_level_threshold_s: 20 };
}

async function refreshAll() {
  const generation = ++state.generation;
  document.body.dataset.state = "loading";
  $("board-error").textContent = "";
  if (!state.tenant) {
    document.body.dataset.state = "ready";
    return;
  }
  const range = currentRange();
  try {
    await Promise.all([
      renderCalls(range, generation),
      refreshQueues(generation),
      renderSurveys(range, generation),
    ]);
    if (generation === state.generation) document.body.dataset.state = "ready";
  } catch (error) {
    if (generation === state.generation) document.body.dataset.state = "error";
    failed(error);
  }
  scheduleQueues();
}

function failed(error) {
  if (error.status === 401) {
    signOut(`Not signed in: ${error.message}`);
    return;
  }
  $("board-error").textContent = `The analytics service answered: ${error.message}`;
}

async function signIn(token) {
  state.token = token;
  document.body.dataset.state = "signing-in";
  let me;
  try {
    me = await api("/v1/whoami");
    state.tenants = (await api("/v1/analytics/tenants")).tenants;
  } catch (error) {
    signOut(error.status === 401 ? `Not signed in: ${error.message}` : error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.operator = me.operator;
  const saved = sessionStorage.getItem(TENANT_KEY);
  const known = state.tenants.map((t) => t.tenant_id);
  state.tenant = me.operator ? (known.includes(saved) ? saved : known[0] || null) : me.tenant_id;
  showBoard(me);
  await refreshAll();
}

function showBoard(me) {
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("sign-out").hidden = false;
  $("tenant-field").hidden = !me.operator;
  const picker = $("tenant");
  picker.replaceChildren(...state.tenants.map((t) => new Option(`${t.name} (${t.tenant_id})`, t.tenant_id)));
  if (state.tenant) picker.value = state.tenant;
  const tenant = currentTenant();
  $("who").textContent = me.operator
    ? "Signed in as the operator"
    : `Signed in with a key of ${tenant.name || me.tenant_id} (${me.tenant_id})`;
  $("board-error").textContent = me.operator && !state.tenant ? EMPTY.tenants : "";
}

function signOut(message) {
  state.token = null;
  state.generation += 1;
  window.clearTimeout(state.queuesTimer);
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(TENANT_KEY);
  for (const chart of document.querySelectorAll(".chart")) {
    if (window.Plotly) window.Plotly.purge(chart);
  }
  $("board").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("who").textContent = "";
  $("sign-in-error").textContent = message || "";
  document.body.dataset.state = message ? "refused" : "signed-out";
}

function onRangeChange() {
  const choice = $("range").value;
  const custom = choice === "custom";
  for (const field of document.querySelectorAll(".custom")) field.hidden = !custom;
  if (custom) {
    if (!$("from").value || !$("to").value) {
      const last = currentRangeOf("24h");
      $("from").value = last.from.slice(0, 16);
      $("to").value = last.to.slice(0, 16);
    }
  } else {
    $("interval").value = RANGES[choice].interval;
  }
  refreshAll();
}

function currentRangeOf(choice) {
  const before = $("range").value;
  $("range").value = choice;
  const range = currentRange();
  $("range").value = before;
  return range;
}

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("sign-in-error").textContent = "";
    const token = $("token").value.trim();
    $("token").value = "";
    if (token) signIn(token);
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("tenant").addEventListener("change", () => {
    state.tenant = $("tenant").value;
    sessionStorage.setItem(TENANT_KEY, state.tenant);
    refreshAll();
  });
  $("range").addEventListener("change", onRangeChange);
  for (const id of ["from", "to", "interval", "group", "goal", "survey", "segment"]) {
    $(id).addEventListener("change", refreshAll);
  }
  for (const form of document.querySelectorAll("form.controls")) {
    form.addEventListener("submit", (event) => event.preventDefault());
  }
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
