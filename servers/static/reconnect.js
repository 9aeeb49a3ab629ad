// SSE Lab: follow one answer across reconnections, with EventSource or with fetch().
// servers/reconnect_patterns.py serves this page. It POSTs the prompt once, then streams
// answers/<id>/<pattern> (or, for pattern=chat, POSTs the prompt with every connection)
// and notes every event and every connection. Results go to
// window.sselab = {answer, events: [{seq, sent, arrived, conn}], connections: [{opened,
// ended, how}], rtt, done, note}, every time in seconds on the server's time.monotonic().
"use strict";

const query = new URLSearchParams(location.search);
const setting = (name, fallback) => query.get(name) ?? fallback;
const pattern = setting("pattern", "resume");
const client = setting("client", "eventsource");
const maxSeconds = Number(setting("max", 8));
const closeOnDone = setting("close_on_done", "1") === "1";
const lab = window.sselab = {answer: null, events: [], connections: [], rtt: null,
                             done: false, note: "", client, pattern};
let now = () => performance.now() / 1000;

async function serverClock() {
  // offset = server clock - browser clock, from the fastest of ten round trips
  let best = null;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const {now: serverNow} = await (await fetch("clock", {cache: "no-store"})).json();
    const t1 = performance.now();
    if (best === null || t1 - t0 < best.rtt) best = {rtt: t1 - t0, offset: serverNow - (t0 + t1) / 2000};
  }
  return best;
}

function log(line) {
  document.getElementById("log").textContent += `${(now() - lab.started).toFixed(3)} s  ${line}\n`;
}

function opened() {
  lab.connections.push({opened: now(), ended: null, how: null});
  log(`connection ${lab.connections.length} open`);
}

function ended(how) {
  const last = lab.connections[lab.connections.length - 1];
  if (last && last.ended === null) { last.ended = now(); last.how = how; }
  log(`connection ended: ${how}`);
}

function received(data) {
  const stamp = JSON.parse(data);
  lab.events.push({seq: stamp.seq, sent: stamp.sent, arrived: now(), conn: lab.connections.length - 1});
  document.getElementById("status").textContent = `${lab.events.length} events, ${lab.connections.length} connections`;
}

function finish(note) {
  if (lab.done) return;
  if (lab.source) lab.source.close();
  if (lab.connections.length && lab.connections[lab.connections.length - 1].ended === null) ended(note);
  lab.note = note;
  lab.done = true;
  log(note);
}

function followWithEventSource(url) {
  // The browser reconnects by itself: after `retry:` ms, sending Last-Event-ID.
  const source = lab.source = new EventSource(url);
  source.onopen = opened;
  source.onmessage = (message) => received(message.data);
  source.addEventListener("done", () => { if (closeOnDone) finish("done event"); });
  source.onerror = () => {
    ended(source.readyState === EventSource.CLOSED ? "failed" : "error, reconnecting");
    if (source.readyState === EventSource.CLOSED) finish("EventSource gave up (readyState CLOSED)");
  };
}

async function followWithFetch(url) {
  // What chat front ends write (fetch can POST and set headers): reconnect by hand after
  // a network error or an early end, with the last id seen and the server's retry: hint.
  let lastId = null, retry = 1000;
  while (!lab.done) {
    try {
      const headers = lastId === null ? {} : {"Last-Event-ID": lastId};
      const reply = await fetch(url, pattern === "chat"  // POST the prompt (again, after a cut)
        ? {method: "POST", cache: "no-store", body: JSON.stringify(lab.settings),
           headers: {...headers, "content-type": "application/json"}}
        : {cache: "no-store", headers});
      const type = reply.headers.get("content-type") || "";
      if (reply.status !== 200 || !type.startsWith("text/event-stream")) {
        finish(`HTTP ${reply.status} ${type}: gave up`);
        return;
      }
      opened();
      const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const fields = {data: []};
          for (const line of buffer.slice(0, end).split("\n")) {
            if (line.startsWith(":")) continue;  // a comment (heartbeat)
            const colon = line.indexOf(":");
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (name === "data") fields.data.push(value); else fields[name] = value;
          }
          buffer = buffer.slice(end + 2);
          if (fields.id !== undefined) lastId = fields.id;
          if (/^\d+$/.test(fields.retry || "")) retry = Number(fields.retry);
          if (fields.event === "done") { if (closeOnDone) { finish("done event"); reader.cancel(); return; } }
          else if (fields.data.length) received(fields.data.join("\n"));
        }
      }
      ended("ended");
    } catch (error) {
      ended(`error: ${error.name}`);
    }
    if (!lab.done) await new Promise(resolve => setTimeout(resolve, retry));
  }
}

async function main() {
  const clock = await serverClock();
  now = () => performance.now() / 1000 + clock.offset;
  lab.rtt = clock.rtt / 1000;
  const settings = {prompt: "tell me a story", n: Number(setting("n", 16)),
                    interval: Number(setting("interval", 0.06))};
  if (query.has("pause_at")) Object.assign(settings, {pause_at: Number(query.get("pause_at")),
                                                      pause: Number(setting("pause", 0))});
  lab.settings = settings;
  if (pattern === "chat") {
    lab.answer = "chat";  // the prompt goes with every request: no id to come back to
  } else {
    const answer = await fetch("answers", {method: "POST", headers: {"content-type": "application/json"},
                                           body: JSON.stringify(settings)});
    lab.answer = (await answer.json()).id;
  }
  lab.started = now();
  let url = pattern === "chat" ? "chat" : `answers/${lab.answer}/${pattern}`;
  if (pattern === "reply") url += `?status=${setting("status", 200)}&media=${encodeURIComponent(setting("media", "text/event-stream"))}`;
  setTimeout(() => finish(`still going after ${maxSeconds} s: stopped`), maxSeconds * 1000);
  if (client === "fetch") followWithFetch(url); else followWithEventSource(url);
}

main().catch(error => { lab.note = `error: ${error}`; lab.done = true; log(lab.note); });
