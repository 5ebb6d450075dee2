// The partnership dashboard: plain JavaScript, no framework, no inline script (the page's
// Content-Security-Policy allows scripts from the gateway only). It signs in with the OAuth 2.0
// authorization code flow with PKCE (S256) as a public client (no secret), then reads the
// reporting service's figures through the gateway's /v1 with the token it got. Every chart has
// a table beside it with the same figures, and every table can be downloaded as CSV.
"use strict";

(function () {
  const TOKEN = "neglect-dashboard.token";
  const PENDING = "neglect-dashboard.pending";
  const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
  const EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
  const TREND_QUARTERS = 8;
  // Dataset metrics charted over quarters: neglect plans open and started, threshold decisions
  // within 1 working day, assessments within 45 working days.
  const TREND_METRICS = ["NQ01", "NQ05", "NQ15", "NQ19"];
  const COLOURS = { green: "#00703c", amber: "#b35900", red: "#d4351c", plain: "#1d70b8", second: "#505a5f" };
  const STAGES = {
    cp_plan: "Child protection plan", cin_plan: "Child in need plan", s47_enquiry: "Section 47 enquiry",
    assessment: "Assessment", open_episode_other: "Other open episode", early_help: "Early help only",
  };
  const TRAJECTORIES = ["improved", "static", "deteriorated", "mixed", "unknown"];

  const $ = (id) => document.getElementById(id);
  let config = null;
  let charts = [];

  // --- small helpers -------------------------------------------------------------------------

  function b64url(bytes) {
    let text = "";
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomText(length) {
    return b64url(crypto.getRandomValues(new Uint8Array(length)));
  }

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return b64url(new Uint8Array(digest));
  }

  function redirectUri() {
    return window.location.origin + "/dashboard/";
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    (children || []).forEach((c) => node.append(c));
    return node;
  }

  /** How a figure is shown: "c" (suppressed) as it is, a missing one as "–". */
  function shown(value) {
    if (value === null || value === undefined) return "–";
    return String(value);
  }

  function status(text, kind) {
    const node = $("status");
    node.textContent = text;
    node.className = kind || "";
    node.hidden = !text;
  }

  // --- signing in ------------------------------------------------------------------------------

  function storedToken() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN) || "null");
      if (saved && saved.expires_at > Date.now() + 10000) return saved;
    } catch (e) { /* a damaged entry is as good as none */ }
    sessionStorage.removeItem(TOKEN);
    return null;
  }

  function actingUser(accessToken) {
    try {
      const payload = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(atob(payload + "===".slice((payload.length + 3) % 4)));
      return (claims.act && claims.act.sub) || claims.sub;
    } catch (e) {
      return "";
    }
  }

  async function signIn() {
    const verifier = randomText(48);
    const state = randomText(16);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
    const params = new URLSearchParams({
      response_type: "code", client_id: config.client_id, redirect_uri: redirectUri(),
      code_challenge: await challengeOf(verifier), code_challenge_method: "S256", state, scope: config.scope,
    });
    if (config.exchange) params.set("nonce", randomText(16));
    window.location.assign(config.authorize_url + "?" + params.toString());
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN);
    window.location.assign(redirectUri());
  }

  async function postForm(url, form) {
    const response = await fetch(url, {
      method: "POST", body: new URLSearchParams(form),
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || body.error_description || body.error || "sign-in refused");
    return body;
  }

  /** Back from the login with ?code=...&state=...: trade the code (and its verifier) for a token. */
  async function completeSignIn(query) {
    window.history.replaceState(null, "", window.location.pathname);
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    if (query.get("error")) throw new Error("The sign-in was refused: " + query.get("error"));
    if (!pending || pending.state !== query.get("state")) throw new Error("The sign-in answer does not match the request; sign in again.");
    let issued = await postForm(config.token_url, {
      grant_type: "authorization_code", code: query.get("code"), code_verifier: pending.verifier,
      client_id: config.client_id, redirect_uri: redirectUri(),
    });
    if (config.exchange) {
      // The identity provider's ID token, exchanged for the gateway's own token.
      issued = await postForm("/oauth/token", {
        grant_type: EXCHANGE, subject_token: issued.id_token, subject_token_type: ID_TOKEN_TYPE,
        client_id: config.gateway_client_id,
      });
    }
    const saved = { access_token: issued.access_token, expires_at: Date.now() + issued.expires_in * 1000 };
    sessionStorage.setItem(TOKEN, JSON.stringify(saved));
    return saved;
  }

  // --- the API -----------------------------------------------------------------------------------

  class SignInNeeded extends Error {}

  async function api(path, params) {
    const token = storedToken();
    if (!token) throw new SignInNeeded("Sign in to see the figures.");
    const url = path + (params ? "?" + new URLSearchParams(params).toString() : "");
    const response = await fetch(url, { headers: { Authorization: "Bearer " + token.access_token, Accept: "application/json" } });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN);
      throw new SignInNeeded("Your sign-in has expired: sign in again.");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`${path}: ${body.detail || body.title || response.status}`);
    return body;
  }

  // --- quarters (financial years April to March) --------------------------------------------------

  function quarterOf(day) {
    const month = day.getUTCMonth() + 1;
    const fy = month >= 4 ? day.getUTCFullYear() : day.getUTCFullYear() - 1;
    return { fy, q: month >= 4 ? Math.floor((month - 4) / 3) + 1 : 4 };
  }

  function quarterName(p) {
    return `${p.fy}-${String((p.fy + 1) % 100).padStart(2, "0")}-Q${p.q}`;
  }

  function parseQuarter(name) {
    const found = /^(\d{4})-\d{2}-Q([1-4])$/.exec(name);
    return { fy: Number(found[1]), q: Number(found[2]) };
  }

  function previous(p) {
    return p.q === 1 ? { fy: p.fy - 1, q: 4 } : { fy: p.fy, q: p.q - 1 };
  }

  function lastDay(p) {
    const [year, month, day] = [[p.fy, 6, 30], [p.fy, 9, 30], [p.fy, 12, 31], [p.fy + 1, 3, 31]][p.q - 1];
    return `${year}-${String(month).padStart(2, "0")}-${day}`;
  }

  // --- targets --------------------------------------------------------------------------------------

  let targets = {};

  function rag(figure, value) {
    const target = targets[figure];
    if (!target || typeof value !== "number") return null;
    const better = target.direction === "higher_is_better";
    if (better ? value >= target.green : value <= target.green) return "green";
    if (better ? value >= target.amber : value <= target.amber) return "amber";
    return "red";
  }

  function ragText(figure, value) {
    const target = targets[figure];
    if (!target) return "";
    const colour = rag(figure, value);
    const sign = target.direction === "higher_is_better" ? "≥" : "≤";
    const goal = `target ${sign} ${target.green}, amber ${sign} ${target.amber}`;
    if (!colour) return `no figure to compare (${goal})`;
    return `${colour[0].toUpperCase()}${colour.slice(1)} (${goal})`;
  }

  // --- panels: a chart, its table and a CSV download ----------------------------------------------

  function csvOf(columns, rows) {
    const quote = (v) => {
      const text = v === null || v === undefined ? "" : String(v);
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const lines = [columns.map((c) => quote(c.label)).join(",")];
    rows.forEach((row) => lines.push(columns.map((c) => quote(row[c.key])).join(",")));
    return lines.join("\r\n") + "\r\n";
  }

  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    const link = el("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /**
   * A section with an optional chart and a table of the same figures.
   * columns: [{key, label, num}]; rows: [{key, <column key>: value, rag: {column: colour}}].
   */
  function panel(spec) {
    const titleId = `${spec.id}-title`;
    const section = el("section", { className: "panel", id: spec.id, "aria-labelledby": titleId }, [
      el("h2", { id: titleId, text: spec.title }),
    ]);
    if (spec.note) section.append(el("p", { className: "note", text: spec.note }));
    const plotted = spec.chart && spec.chart.data.datasets.some((d) => d.data.some((v) => typeof v === "number" && v !== 0));
    if (spec.chart && !plotted) {
      section.append(el("p", { className: "note", text: "Nothing to chart: no figures above zero. The table below says why." }));
    } else if (spec.chart) {
      const canvas = el("canvas", { role: "img", "aria-label": `${spec.title}: chart. The table below gives the same figures.` });
      section.append(el("figure", { className: "chart" + (spec.small ? " small" : "") }, [canvas]));
      charts.push(new window.Chart(canvas, spec.chart));
    }
    const head = el("tr", {}, spec.columns.map((c) => el("th", { scope: "col", className: c.num ? "num" : "", text: c.label })));
    const body = el("tbody", {}, spec.rows.map((row) => el("tr", { "data-key": row.key }, spec.columns.map((c, i) => {
      const cell = el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, className: c.num ? "num" : "", "data-column": c.key });
      const colour = row.rag && row.rag[c.key];
      if (colour) cell.append(el("span", { className: `rag rag-${colour}`, text: shown(row[c.key]) }));
      else cell.textContent = shown(row[c.key]);
      return cell;
    }))));
    section.append(el("table", { id: `${spec.id}-table` }, [el("caption", { text: spec.caption || spec.title }), el("thead", {}, [head]), body]));
    const button = el("button", { type: "button", id: `${spec.id}-csv`, className: "csv", text: `Download ${spec.title.toLowerCase()} (CSV)` });
    button.addEventListener("click", () => download(`${spec.id}-${spec.period}.csv`, csvOf(spec.columns, spec.rows)));
    section.append(button);
    $("sections").append(section);
  }

  function barChart(labels, datasets, options) {
    return {
      type: "bar",
      data: { labels, datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: (options && options.horizontal) ? "y" : "x",
        scales: { x: { stacked: !!(options && options.stacked) }, y: { stacked: !!(options && options.stacked), beginAtZero: true,
          max: options && options.max } },
        plugins: { legend: { display: datasets.length > 1 } },
      },
    };
  }

  const numeric = (v) => (typeof v === "number" ? v : null);
  const colourOf = (c) => COLOURS[c] || COLOURS.plain;

  // --- the sections ---------------------------------------------------------------------------------

  function trends(series, period) {
    series.forEach((s) => {
      const figure = `metric:${s.metric}`;
      const rows = s.points.map((p) => {
        const value = p.total ? p.total.value : null;
        return { key: p.period.name, quarter: p.period.name, value, target: ragText(figure, value),
                 rag: { value: rag(figure, value) } };
      });
      const colours = rows.map((r) => colourOf(r.rag.value));
      panel({
        id: `trend-${s.metric.toLowerCase()}`, period, small: true,
        title: `${s.metric}: ${s.title}`, caption: `${s.metric} by quarter (${s.unit.replace(/_/g, " ")})`,
        note: s.reason || null,
        columns: [{ key: "quarter", label: "Quarter" }, { key: "value", label: s.unit === "percent" ? "Per cent" : "Value", num: true },
                  { key: "target", label: "Against target" }],
        rows,
        chart: {
          type: "line",
          data: { labels: rows.map((r) => r.quarter), datasets: [{ label: s.metric, data: rows.map((r) => numeric(r.value)),
            borderColor: COLOURS.plain, pointBackgroundColor: colours, pointRadius: 5, spanGaps: true }] },
          options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                     scales: { y: { beginAtZero: true } } },
        },
      });
    });
  }

  function dataset(body, period) {
    const rows = body.metrics.map((m) => {
      const value = m.available && m.total ? m.total.value : null;
      const figure = `metric:${m.id}`;
      return { key: m.id, id: m.id, title: m.title, unit: m.unit.replace(/_/g, " "), value,
               target: ragText(figure, value), rag: { value: rag(figure, value) }, note: m.available ? "" : "not available" };
    });
    panel({
      id: "dataset", period, title: `Quarterly dataset, ${body.period.name}`, caption: `Quarterly neglect dataset ${body.period.name}: each metric's total`,
      note: `Definitions version ${body.definitions_version}. Metrics not available yet say so.`,
      columns: [{ key: "id", label: "Metric" }, { key: "title", label: "Title" }, { key: "unit", label: "Unit" },
                { key: "value", label: "Total", num: true }, { key: "target", label: "Against target" }, { key: "note", label: "Note" }],
      rows,
    });
  }

  function timeliness(body, period) {
    const rows = body.clocks.map((c) => {
      const figure = `timeliness:${c.clock}`;
      return { key: c.clock, name: c.name, limit: `${c.limit} ${c.unit.replace(/_/g, " ")}`, completed: c.completed,
               on_time: c.on_time, percent: c.percent_on_time, target: ragText(figure, c.percent_on_time),
               rag: { percent: rag(figure, c.percent_on_time) } };
    });
    const counted = rows.filter((r) => typeof r.percent === "number");
    panel({
      id: "timeliness", period, title: "Timeliness", caption: `Items whose clock stopped in ${body.period.name}, and the share within the limit`,
      columns: [{ key: "name", label: "Timescale" }, { key: "limit", label: "Limit" }, { key: "completed", label: "Completed", num: true },
                { key: "on_time", label: "On time", num: true }, { key: "percent", label: "Per cent on time", num: true },
                { key: "target", label: "Against target" }],
      rows,
      chart: barChart(counted.map((r) => r.name), [{ label: "Per cent on time", data: counted.map((r) => r.percent),
        backgroundColor: counted.map((r) => colourOf(r.rag.percent)) }], { horizontal: true, max: 100 }),
    });
  }

  function caseload(body, period) {
    const rows = body.children_by_stage.map((s) => {
      const figure = `caseload:${s.stage}`;
      return { key: s.stage, stage: STAGES[s.stage] || s.stage, children: s.children, target: ragText(figure, s.children),
               rag: { children: rag(figure, s.children) } };
    });
    const totals = [["children_in_statutory_work", "Children in statutory work (all but early help only)"],
                    ["referrals_awaiting_decision", "Referrals awaiting a threshold decision"],
                    ["neglect_cp_plans", "CP plans for neglect"]].map(([key, label]) => {
      const figure = `caseload:${key}`;
      return { key, stage: label, children: body[key], target: ragText(figure, body[key]), rag: { children: rag(figure, body[key]) } };
    });
    panel({
      id: "caseload", period, title: "Caseload", caption: `Children by the furthest stage they are in, on ${body.at}`,
      columns: [{ key: "stage", label: "Stage or total" }, { key: "children", label: "Count", num: true }, { key: "target", label: "Against target" }],
      rows: rows.concat(totals),
      chart: barChart(rows.map((r) => r.stage), [{ label: "Children", data: rows.map((r) => numeric(r.children)),
        backgroundColor: rows.map((r) => colourOf(r.rag.children)) }]),
    });
  }

  function alerts(body, period) {
    const rows = body.clocks.map((c) => {
      const figure = `alerts:${c.clock}`;
      return { key: c.clock, name: c.name, limit: c.limit === null ? "–" : `${c.limit} ${c.unit.replace(/_/g, " ")}`,
               open: c.open, overdue: c.overdue, due_soon: c.due_soon, target: ragText(figure, c.overdue),
               status: c.status === "counted" ? "" : (c.reason || c.status.replace(/_/g, " ")), rag: { overdue: rag(figure, c.overdue) } };
    });
    const counted = rows.filter((r) => r.status === "");
    panel({
      id: "alerts", period, title: "Drift alerts", caption: `Statutory clocks running on ${body.at}: overdue, and due within ${body.due_soon_working_days} working days`,
      columns: [{ key: "name", label: "Clock" }, { key: "limit", label: "Limit" }, { key: "open", label: "Running", num: true },
                { key: "overdue", label: "Overdue", num: true }, { key: "due_soon", label: "Due soon", num: true },
                { key: "target", label: "Against target" }, { key: "status", label: "Note" }],
      rows,
      chart: barChart(counted.map((r) => r.name), [
        { label: "Overdue", data: counted.map((r) => numeric(r.overdue)), backgroundColor: counted.map((r) => colourOf(r.rag.overdue || "red")) },
        { label: "Due soon", data: counted.map((r) => numeric(r.due_soon)), backgroundColor: COLOURS.second },
      ], { horizontal: true }),
    });
  }

  function trajectories(body, period) {
    const rows = body.tools.map((t) => Object.assign({ key: t.tool, tool: t.tool }, t.children_by_trajectory));
    panel({
      id: "trajectories", period, title: "Toolkit trajectories",
      caption: `Children with a repeat toolkit assessment authorised in ${body.period.name}, latest against baseline`,
      note: body.available ? null : body.reason,
      columns: [{ key: "tool", label: "Tool" }].concat(TRAJECTORIES.map((t) => ({ key: t, label: t[0].toUpperCase() + t.slice(1), num: true }))),
      rows,
      chart: barChart(rows.map((r) => r.tool), TRAJECTORIES.slice(0, 4).map((t, i) => ({
        label: t, data: rows.map((r) => numeric(r[t])),
        backgroundColor: [COLOURS.green, COLOURS.second, COLOURS.red, COLOURS.amber][i],
      })), { stacked: true }),
    });
  }

  // --- loading ------------------------------------------------------------------------------------------

  async function load(period) {
    charts.forEach((c) => c.destroy());
    charts = [];
    $("sections").replaceChildren();
    status("Loading the figures…");
    const chosen = parseQuarter(period);
    let first = chosen;
    for (let i = 1; i < TREND_QUARTERS; i += 1) first = previous(first);
    const today = new Date().toISOString().slice(0, 10);
    const at = lastDay(chosen) < today ? lastDay(chosen) : today;
    const [found, series, quarterly, timely, load_, drift, tools] = await Promise.all([
      api("/v1/dashboard/targets"),
      Promise.all(TREND_METRICS.map((m) => api("/v1/dashboard/series", { metric: m, from: quarterName(first), to: period }))),
      api("/v1/datasets/quarterly", { period }),
      api("/v1/dashboard/timeliness", { period }),
      api("/v1/dashboard/caseload", { at }),
      api("/v1/dashboard/alerts", { at }),
      api("/v1/dashboard/trajectories", { period }),
    ]);
    targets = Object.fromEntries(found.targets.map((t) => [t.figure, t]));
    $("legend").hidden = found.targets.length === 0;
    timeliness(timely, period);
    caseload(load_, period);
    alerts(drift, period);
    trends(series, period);
    dataset(quarterly, period);
    trajectories(tools, period);
    status("");
    document.body.setAttribute("data-loaded", period);
  }

  function fillPeriods() {
    const select = $("period");
    let p = quarterOf(new Date());
    for (let i = 0; i < TREND_QUARTERS; i += 1) {
      select.append(el("option", { value: quarterName(p), text: quarterName(p) }));
      p = previous(p);
    }
    // The last complete quarter first: quarterly figures are read when a quarter has ended.
    select.selectedIndex = 1;
    select.addEventListener("change", () => load(select.value).catch(failed));
    $("controls").hidden = false;
    $("controls").addEventListener("submit", (e) => e.preventDefault());
  }

  function failed(error) {
    if (error instanceof SignInNeeded) {
      status(error.message);
      $("sign-in").hidden = false;
      $("sign-out").hidden = true;
      $("controls").hidden = true;
      return;
    }
    status(String(error.message || error), "error");
  }

  async function start() {
    $("sign-in").addEventListener("click", () => signIn().catch(failed));
    $("sign-out").addEventListener("click", signOut);
    const response = await fetch("/dashboard/config.json", { headers: { Accept: "application/json" } });
    config = await response.json();
    const query = new URLSearchParams(window.location.search);
    if (query.has("code") || query.has("error")) await completeSignIn(query);
    const token = storedToken();
    if (!token) throw new SignInNeeded("Sign in to see the figures.");
    $("who").textContent = `Signed in as ${actingUser(token.access_token)}`;
    $("sign-out").hidden = false;
    fillPeriods();
    await load($("period").value);
  }

  document.addEventListener("DOMContentLoaded", () => { start().catch(failed); });
}());
