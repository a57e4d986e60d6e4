// The human status page (docs/design.md §14): one self-contained HTML document served by the admin
// location at `…/` and `…/status.html`. It holds no data of its own: its script reads the JSON of
// `…/status` (relative URL, so it works under any admin prefix) every two seconds and counts
// cooldowns and the config age down/up between reads, without reloading. Inline CSS and script
// only (the Content-Security-Policy allows nothing else, the page loads no external asset), and
// values are inserted as text, never as HTML.
#include "ngx_routeshift.hpp"

namespace routeshift {
namespace {

constexpr std::string_view kStatusPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RouteShift status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2430; background: #f7f8fa; }
  h1 { font-size: 1.3em; margin: 0 0 .4em; }
  .summary span { margin-right: 1.5em; }
  .summary b { font-variant-numeric: tabular-nums; }
  #problem { color: #fff; background: #b42318; padding: .4em .8em; border-radius: 4px; margin: .6em 0; }
  #spool { margin: .8em 0; padding: .5em .8em; background: #fff; border: 1px solid #d0d5dd; border-radius: 4px; }
  #spool.filling { border-color: #b42318; }
  table { border-collapse: collapse; background: #fff; margin-top: .8em; min-width: 100%; }
  th, td { border: 1px solid #d0d5dd; padding: .3em .6em; text-align: left; white-space: nowrap; }
  th { background: #eef1f5; font-weight: 600; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  tr.cooling td { background: #fff4e5; }
  tr.disabled td { color: #98a2b3; }
  .state-open { color: #b42318; font-weight: 600; }
  .state-half_open { color: #b54708; font-weight: 600; }
  .state-closed { color: #067647; }
  .muted { color: #667085; }
</style>
</head>
<body>
<h1>RouteShift status</h1>
<div class="summary">
  <span>Config generation <b id="generation">–</b></span>
  <span>applied <b id="config-age">–</b> ago</span>
  <span>Workers <b id="workers">–</b></span>
  <span class="muted">updated <b id="updated">never</b></span>
</div>
<div id="problem" hidden></div>
<div id="spool" hidden>Request log spool: <b id="spool-backlog"></b> in <b id="spool-files"></b> files
  (limit <b id="spool-limit"></b>), <b id="spool-dropped"></b> records dropped</div>
<table>
  <thead><tr>
    <th>Provider</th><th>Key</th><th>Weight</th><th>Strategy</th><th>In flight</th><th>Cooldown</th>
    <th>Circuit</th><th>RPM used / limit</th><th>TPM used / limit</th><th>p50</th>
    <th>Requests</th><th>Failures</th><th>Last status</th>
  </tr></thead>
  <tbody id="keys"></tbody>
</table>
<script>
"use strict";
const refreshMs = 2000, tickMs = 200, fetchTimeoutMs = 5000;
let cooldownDeadlines = new Map();  // key id -> performance.now() when its cooldown ends
let appliedAtLocal = null;          // performance.now() at which the config was applied
let lastUpdate = null;

function text(id, value) { document.getElementById(id).textContent = value; }
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}
function duration(seconds) {
  if (seconds < 60) return seconds.toFixed(0) + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.floor(seconds % 60) + " s";
  if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + Math.floor(seconds % 3600 / 60) + " min";
  return Math.floor(seconds / 86400) + " d " + Math.floor(seconds % 86400 / 3600) + " h";
}
function usedOfLimit(used, limit) {
  return (used === undefined ? "–" : String(used)) + " / " + (limit === null || limit === undefined ? "∞" : String(limit));
}
function cell(row, field, value, numeric) {
  const td = document.createElement("td");
  td.dataset.field = field;
  if (numeric) td.className = "number";
  td.textContent = value === undefined || value === null ? "–" : String(value);
  row.appendChild(td);
  return td;
}

function render(status) {
  const now = performance.now();
  text("generation", status.generation ? String(status.generation) : "none loaded");
  appliedAtLocal = status.applied_at ? now - Math.max(0, status.now - status.applied_at) * 1000 : null;
  text("workers", String((status.workers || []).length));
  const spool = status.spool;
  const spoolBox = document.getElementById("spool");
  spoolBox.hidden = !spool;
  if (spool) {
    text("spool-backlog", bytes(spool.backlog_bytes));
    text("spool-files", String(spool.backlog_files));
    text("spool-limit", spool.limit_bytes ? bytes(spool.limit_bytes) : "none");
    text("spool-dropped", String(spool.dropped_records));
    spoolBox.classList.toggle("filling", !!spool.limit_bytes && spool.backlog_bytes > spool.limit_bytes * 0.8);
  }
  const body = document.getElementById("keys");
  const rows = document.createDocumentFragment();
  cooldownDeadlines = new Map();
  for (const k of status.keys || []) {
    const row = document.createElement("tr");
    row.dataset.keyId = String(k.id);
    if (!k.enabled) row.classList.add("disabled");
    cell(row, "provider", k.provider);
    cell(row, "label", k.label + " (#" + k.id + ")");
    cell(row, "weight", k.weight, true);
    cell(row, "strategy", k.strategy);
    cell(row, "inflight", k.inflight, true);
    cell(row, "cooldown", "", true);  // filled by tick()
    if (k.cooldown_remaining_ms > 0) cooldownDeadlines.set(String(k.id), now + k.cooldown_remaining_ms);
    const breaker = cell(row, "breaker", k.breaker ? k.breaker.replace("_", "-") : undefined);
    if (k.breaker) breaker.classList.add("state-" + k.breaker);
    cell(row, "rpm", usedOfLimit(k.rpm_used, k.rpm_limit), true);
    cell(row, "tpm", usedOfLimit(k.tpm_used, k.tpm_limit), true);
    cell(row, "p50", k.p50_ms === null || k.p50_ms === undefined ? "–" : k.p50_ms + " ms", true);
    cell(row, "requests", k.requests, true);
    cell(row, "failures", k.failures, true);
    cell(row, "last_status", k.last_status ? k.last_status : "–", true);
    rows.appendChild(row);
  }
  body.replaceChildren(rows);
  lastUpdate = now;
  tick();
}

// Between reads: cooldowns count down and the ages count up, from the last read's numbers.
function tick() {
  const now = performance.now();
  for (const row of document.querySelectorAll("#keys tr")) {
    const td = row.querySelector('td[data-field="cooldown"]');
    const deadline = cooldownDeadlines.get(row.dataset.keyId);
    const remaining = deadline === undefined ? 0 : Math.max(0, deadline - now);
    td.dataset.remainingMs = String(Math.round(remaining));
    td.textContent = remaining > 0 ? (remaining / 1000).toFixed(1) + " s" : "–";
    row.classList.toggle("cooling", remaining > 0);
  }
  text("config-age", appliedAtLocal === null ? "–" : duration((now - appliedAtLocal) / 1000));
  text("updated", lastUpdate === null ? "never" : duration((now - lastUpdate) / 1000) + " ago");
}

async function refresh() {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), fetchTimeoutMs);
  const problem = document.getElementById("problem");
  try {
    const response = await fetch("status", {cache: "no-store", signal: abort.signal});
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    problem.hidden = true;
  } catch (e) {
    problem.textContent = "Could not read the status: " + e.message + " (showing the last data)";
    problem.hidden = false;
  } finally {
    clearTimeout(timer);
    setTimeout(refresh, refreshMs);
  }
}

setInterval(tick, tickMs);
refresh();
</script>
</body>
</html>
)HTML";

}  // namespace

ngx_int_t send_status_page(ngx_http_request_t* r) {
    return send_document(r, 200, "text/html; charset=utf-8", kStatusPage,
                         {{"Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
                          {"Cache-Control", "no-store"},
                          {"X-Content-Type-Options", "nosniff"},
                          {"Referrer-Policy", "no-referrer"}});
}

}  // namespace routeshift
