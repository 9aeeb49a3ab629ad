// SSE Lab: open N EventSources at once and note when each opens and gets its first event.
// Results: window.sselab = {streams: [{index, opened, first, ended, events}], done, note}, times in
// milliseconds since the page created the first EventSource.
"use strict";

const query = new URLSearchParams(location.search);
const n = Number(query.get("n") || 8);
const events = Number(query.get("events") || 5);
const interval = Number(query.get("interval") || 0.2);
const lab = window.sselab = {streams: [], done: false, note: ""};
const start = performance.now();

function finishWhenAllDone() {
  if (lab.streams.every(s => s.events >= events)) {
    lab.note = "complete";
    lab.done = true;
    render();
  }
}

function render() {
  const rows = lab.streams.map(s =>
    `<tr><td>${s.index}</td><td>${s.opened?.toFixed(0) ?? "-"}</td><td>${s.first?.toFixed(0) ?? "-"}</td></tr>`);
  document.getElementById("rows").innerHTML =
    "<tr><th>#</th><th>open (ms)</th><th>first event (ms)</th></tr>" + rows.join("");
  document.getElementById("status").textContent =
    `${lab.streams.filter(s => s.opened !== null).length} of ${n} open. ${lab.note}`;
}

for (let i = 0; i < n; i++) {
  const record = {index: i, opened: null, first: null, ended: null, events: 0};
  lab.streams.push(record);
  const source = new EventSource(`events?n=${events}&interval=${interval}&stream=${i}`);
  source.onopen = () => { record.opened ??= performance.now() - start; render(); };
  source.onmessage = () => {
    record.first ??= performance.now() - start;
    record.events += 1;
    if (record.events >= events) { source.close(); record.ended = performance.now() - start; finishWhenAllDone(); }
  };
  source.onerror = () => { if (record.events < events) lab.note = `stream ${i}: error`; };
}
