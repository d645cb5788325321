// V/A trace recorder: Streamlit's component protocol over window.postMessage (no build step).
// Samples the pad at a fixed rate while the video plays; each sample's time is video.currentTime.
// A recording segment (play -> pause/seek/end) replaces the earlier samples in the span it covers.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const video = $("video"), pad = $("pad"), plot = $("plot"), modeSel = $("mode");
  const state = { v: 0, a: 0, samples: [], rate: 10, duration: null, timer: null, segLast: null,
                  height: 640, src: null, ready: false };

  function send(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
  }
  const clamp = (x) => Math.max(-1, Math.min(1, x));
  const round = (x) => Math.round(x * 1000) / 1000;

  // ---- pad ---------------------------------------------------------------------------------
  function drawPad() {
    const c = pad.getContext("2d"), w = pad.width, h = pad.height, mode = modeSel.value;
    c.clearRect(0, 0, w, h);
    c.strokeStyle = "#ccc"; c.beginPath();
    c.arc(w / 2, h / 2, w / 2 - 2, 0, 2 * Math.PI);
    c.moveTo(0, h / 2); c.lineTo(w, h / 2); c.moveTo(w / 2, 0); c.lineTo(w / 2, h); c.stroke();
    c.fillStyle = "#888"; c.font = "11px sans-serif";
    c.fillText("valence +", w - 56, h / 2 - 4); c.fillText("arousal +", w / 2 + 4, 12);
    const x = mode === "arousal" ? w / 2 : (state.v + 1) / 2 * w;
    const y = mode === "valence" ? h / 2 : (1 - state.a) / 2 * h;
    c.fillStyle = "#ff4b4b"; c.beginPath(); c.arc(x, y, 7, 0, 2 * Math.PI); c.fill();
    $("now").textContent = "V " + state.v.toFixed(2) + " · A " + state.a.toFixed(2);
  }
  function fromPointer(ev) {
    const r = pad.getBoundingClientRect(), mode = modeSel.value;
    if (mode !== "arousal") state.v = round(clamp(((ev.clientX - r.left) / r.width) * 2 - 1));
    if (mode !== "valence") state.a = round(clamp(1 - ((ev.clientY - r.top) / r.height) * 2));
    drawPad();
  }
  pad.addEventListener("pointermove", fromPointer);
  pad.addEventListener("pointerdown", (ev) => { pad.focus(); fromPointer(ev); });
  pad.addEventListener("keydown", (ev) => {
    const step = ev.shiftKey ? 0.2 : 0.05, mode = modeSel.value;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (ev.key === " ") { ev.preventDefault(); video.paused ? video.play() : video.pause(); return; }
    const m = moves[ev.key];
    if (!m) return;
    ev.preventDefault();
    if (mode !== "arousal") state.v = round(clamp(state.v + m[0]));
    if (mode !== "valence") state.a = round(clamp(state.a + m[1]));
    drawPad();
  });
  modeSel.addEventListener("change", drawPad);

  // ---- sampling ----------------------------------------------------------------------------
  function tick() {
    if (video.paused || video.ended || !$("record").checked) return;
    const t = round(video.currentTime), mode = modeSel.value;
    const from = state.segLast === null ? t - 1e-6 : state.segLast;
    // re-record: drop earlier samples inside the span this segment now covers
    state.samples = state.samples.filter((s) => !(s.t > from && s.t <= t) || s.seg === state.seg);
    state.samples = state.samples.filter((s) => !(s.t === t && s.seg === state.seg));
    state.samples.push({ t: t, v: mode === "arousal" ? null : state.v, a: mode === "valence" ? null : state.a,
                         seg: state.seg });
    state.samples.sort((p, q) => p.t - q.t);
    state.segLast = t;
    showStatus();
  }
  function startSegment() {  // a segment covers (its start, its last sample]: it replaces that span
    state.seg = (state.seg || 0) + 1;
    state.segLast = round(video.currentTime) - 1e-6;
    if (state.timer) clearInterval(state.timer);
    state.timer = setInterval(tick, 1000 / state.rate);
    tick();
    pad.focus();
  }
  function stopSegment() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    state.segLast = null;
    drawPlot();
  }
  video.addEventListener("play", startSegment);
  video.addEventListener("pause", stopSegment);
  video.addEventListener("seeking", () => { state.segLast = null; state.seg = (state.seg || 0) + 1; });
  video.addEventListener("seeked", () => { if (!video.paused) state.segLast = round(video.currentTime) - 1e-6; });
  video.addEventListener("ended", stopSegment);
  video.addEventListener("timeupdate", drawPlot);
  video.addEventListener("error", () => {
    $("error").textContent = "This browser cannot play the video (codec). Re-encode it as H.264 mp4 or WebM.";
  });
  $("play").addEventListener("click", () => { video.play(); });
  $("pause").addEventListener("click", () => { video.pause(); });
  $("clear").addEventListener("click", () => { state.samples = []; showStatus(); drawPlot(); });
  $("save").addEventListener("click", () => {
    if (!state.samples.length) { $("error").textContent = "Nothing recorded yet: play the video and move the pad."; return; }
    $("error").textContent = "";
    send("streamlit:setComponentValue", { dataType: "json", value: {
      samples: { t: state.samples.map((s) => s.t), valence: state.samples.map((s) => s.v),
                 arousal: state.samples.map((s) => s.a) },
      mode: modeSel.value, rate_hz: state.rate, nonce: Date.now() } });
    $("status").textContent = state.samples.length + " samples · saved";
  });

  function showStatus() {
    $("status").dataset.samples = String(state.samples.length);
    $("status").textContent = state.samples.length + " samples";
    drawPlot();
  }

  // ---- plot --------------------------------------------------------------------------------
  function drawPlot() {
    const c = plot.getContext("2d"), w = plot.width, h = plot.height;
    const end = state.duration || video.duration || Math.max(1, ...state.samples.map((s) => s.t));
    c.clearRect(0, 0, w, h);
    c.strokeStyle = "#eee"; c.beginPath(); c.moveTo(0, h / 2); c.lineTo(w, h / 2); c.stroke();
    const X = (t) => (t / end) * w, Y = (x) => (1 - x) / 2 * h;
    for (const [key, colour] of [["v", "#3969ac"], ["a", "#e68310"]]) {
      c.strokeStyle = colour; c.lineWidth = 2; c.beginPath();
      let open = false, last = null;
      for (const s of state.samples) {
        const gap = last !== null && s.t - last > 3 / state.rate;
        if (s[key] === null || gap) open = false;
        if (s[key] !== null) { open ? c.lineTo(X(s.t), Y(s[key])) : c.moveTo(X(s.t), Y(s[key])); open = true; }
        last = s.t;
      }
      c.stroke();
    }
    c.strokeStyle = "#ff4b4b"; c.lineWidth = 1; c.beginPath();
    c.moveTo(X(video.currentTime || 0), 0); c.lineTo(X(video.currentTime || 0), h); c.stroke();
    c.fillStyle = "#3969ac"; c.fillText("valence", 4, 12); c.fillStyle = "#e68310"; c.fillText("arousal", 52, 12);
  }

  // ---- Streamlit protocol ------------------------------------------------------------------
  window.addEventListener("message", (event) => {
    const msg = event.data;
    if (!msg || msg.type !== "streamlit:render") return;
    const args = msg.args || {};
    state.rate = Number(args.rate_hz) || 10;
    state.duration = args.duration || null;
    if (args.video && args.video !== state.src) {  // a new media: start afresh
      state.src = args.video;
      video.src = args.video;
      state.samples = [];
      if (args.mode) modeSel.value = args.mode;
      showStatus();
    }
    drawPad();
    send("streamlit:setFrameHeight", { height: Number(args.height) || document.body.scrollHeight });
  });
  drawPad();
  drawPlot();
  send("streamlit:componentReady", { apiVersion: 1 });
})();
