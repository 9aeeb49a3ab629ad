// SSE Lab: time an EventSource in a real browser (servers/browser_page.py serves this).
// Results go to window.sselab = {events: [{seq, sent, arrived, bytes}], opened, rtt, done, note}
// with every time in seconds on the server's time.monotonic() clock.
"use strict";

const LATE = 0.020;  // seconds; the lab's smallest "late" (sselab/_timeline.py MIN_LATE)
const query = new URLSearchParams(location.search);
const n = Number(query.get("n") || 20);
const interval = Number(query.get("interval") || 0.2);
const lab = window.sselab = {events: [], opened: null, rtt: null, done: false, note: ""};

async function serverClock() {
  // offset = server clock - browser clock, from the fastest of ten round trips
  let best = null;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const reply = await fetch("clock", {cache: "no-store"});
    const {now} = await reply.json();
    const t1 = performance.now();
    if (best === null || t1 - t0 < best.rtt) best = {rtt: t1 - t0, offset: now - (t0 + t1) / 2000};
  }
  return best;
}

function finish(note) {
  if (lab.done) return;
  lab.source.close();  // or the browser reconnects when the stream ends
  lab.note = note;
  lab.done = true;
  draw();
}

function draw() {
  const svg = document.getElementById("plot");
  const W = svg.width.baseVal.value, H = svg.height.baseVal.value, pad = 30;
  const end = Math.max(interval * n, ...lab.events.map(e => e.arrived - lab.opened), 0.1);
  const x = t => pad + (W - 2 * pad) * (t - lab.opened) / end;
  const y = seq => H - pad - (H - 2 * pad) * (seq + 0.5) / Math.max(n, 1);
  const parts = [];
  for (const e of lab.events) {
    const late = e.arrived - e.sent > LATE ? "late" : "arrived";
    parts.push(`<line class="link" x1="${x(e.sent)}" x2="${x(e.arrived)}" y1="${y(e.seq)}" y2="${y(e.seq)}"/>`,
               `<circle class="sent" cx="${x(e.sent)}" cy="${y(e.seq)}" r="4"/>`,
               `<circle class="${late}" cx="${x(e.arrived)}" cy="${y(e.seq)}" r="3.5"/>`);
  }
  parts.push(`<text class="axis" x="${pad}" y="${H - 8}">0 s</text>`,
             `<text class="axis" x="${W - pad}" y="${H - 8}" text-anchor="end">${end.toFixed(2)} s</text>`);
  svg.innerHTML = parts.join("");
  const delays = lab.events.map(e => e.arrived - e.sent).sort((a, b) => a - b);
  const median = delays.length ? delays[Math.floor(delays.length / 2)] : NaN;
  document.getElementById("status").textContent =
    `${lab.events.length} of ${n} events; median delay ${(median * 1000).toFixed(1)} ms, ` +
    `max ${((delays[delays.length - 1] || NaN) * 1000).toFixed(1)} ms ` +
    `(clock mapped to within ${(lab.rtt * 500).toFixed(1)} ms). ${lab.note}`;
}

async function main() {
  const clock = await serverClock();
  const now = () => performance.now() / 1000 + clock.offset;
  lab.rtt = clock.rtt / 1000;
  lab.opened = now();
  const source = lab.source = new EventSource(`events?n=${n}&interval=${interval}`);
  source.onmessage = (message) => {
    const arrived = now();
    const stamp = JSON.parse(message.data);
    lab.events.push({seq: stamp.seq, sent: stamp.sent, arrived, bytes: message.data.length + 8});
    if (lab.events.length >= n) finish("stream complete."); else draw();
  };
  source.onerror = () => finish(lab.events.length >= n ? "stream complete." : "stream ended or failed.");
}

main().catch(error => { lab.note = `error: ${error}`; lab.done = true;
                        document.getElementById("status").textContent = lab.note; });
