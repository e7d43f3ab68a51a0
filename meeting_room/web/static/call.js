// Taking part from elsewhere: a WebRTC call to the meeting room. The page offers, the server
// answers (no trickle: the offer leaves once ICE gathering is done, the LAN makes that quick).
// A dropped connection comes back by itself (1 s, 2 s, 4 s … 10 s); the server keeps the member
// present for a short grace period, so a blip changes nothing in the attendance.
// A large meeting goes through the Janus SFU instead (the welcome says so): janus.js (npm
// janus-gateway, served under /static/vendor/) publishes the microphone (and camera) into the
// meeting's Janus room and subscribes to the room and to the other participants, through the
// server's relay socket; the same buttons, states and reconnects.
import { fill, h, icon, toast } from "/static/app.js";

const STATE_VI = {
  idle: "Chưa tham gia", starting: "Đang bật micrô…", connecting: "Đang kết nối…", connected: "Đã kết nối",
  reconnecting: "Mất kết nối — đang kết nối lại…", ended: "Đã rời cuộc họp", closed: "Cuộc họp đã kết thúc",
};
const STATE_EN = {
  idle: "Not joined", starting: "Turning the microphone on…", connecting: "Connecting…", connected: "Connected",
  reconnecting: "Connection lost: reconnecting…", ended: "Left the meeting", closed: "The meeting has ended",
};

export class RemoteCall {
  constructor(meetingId, el) {
    this.meetingId = meetingId;
    this.el = el;
    this.state = "idle";
    this.opened = true; // whether the meeting has opened (the server takes no call before: the page says so)
    this.muted = false;
    this.camera = false;
    this.stream = null;
    this.pc = null;
    this.ws = null;
    this.retry = 1000;
    this.wanted = false; // the member wants to be on the call (reconnect while true)
    this.audioEl = h("audio", { id: "room-audio", autoplay: true });
    this.videoEl = h("video", { id: "room-video", autoplay: true, playsinline: true, muted: true, hidden: true, "aria-label": "Hình ảnh phòng họp" });
    this.render();
  }

  async join(camera) {
    this.wanted = true;
    this.camera = camera;
    this.set("starting");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, video: camera ? { width: 640, height: 360 } : false,
      });
    } catch (err) {
      this.wanted = false;
      this.set("idle");
      return toast(`Không dùng được micrô${camera ? "/camera" : ""}: ${err.message}. Hãy cho phép trình duyệt dùng micrô (trang phải mở bằng https).`, "error",
        `The microphone${camera ? "/camera" : ""} cannot be used: ${err.message}. Allow the browser to use it (the page must be on https).`);
    }
    this.connect();
  }

  connect() {
    this.set(this.state === "connected" || this.state === "reconnecting" ? "reconnecting" : "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = (this.ws = new WebSocket(`${scheme}://${location.host}/api/meetings/${this.meetingId}/call`));
    ws.onmessage = (ev) => this.onMessage(JSON.parse(ev.data));
    ws.onclose = () => { if (this.ws === ws) this.dropped(); };
  }

  async onMessage(msg) {
    if (msg.type === "welcome") return msg.janus ? this.viaJanus(msg.janus, msg.ice_servers) : this.offer(msg.ice_servers);
    if (msg.type === "answer") return this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    if (msg.type === "state" && msg.state === "connected") { this.retry = 1000; return this.set("connected"); }
    if (msg.type === "muted") {
      this.muted = msg.muted;
      for (const t of this.stream?.getAudioTracks() || []) t.enabled = !this.muted;
      if (msg.by) toast(msg.muted ? `${msg.by} đã tắt micrô của bạn. Bấm “Bật micrô” khi được mời phát biểu.` : `${msg.by} đã bật lại micrô của bạn.`, "info",
        msg.muted ? "The chair muted your microphone." : "The chair unmuted your microphone.");
      return this.render();
    }
    if (msg.type === "ended" && msg.reason === "sfu_lost") {
      toast("Mất kết nối với máy chủ hội nghị (Janus) — đang kết nối lại…", "error", "The conference server (Janus) was lost — reconnecting…");
      const ws = this.ws;
      this.ws = null;
      if (ws) ws.close();
      return this.dropped();
    }
    if (msg.type === "ended") {
      this.wanted = msg.reason !== "meeting_ended" && msg.reason !== "replaced" ? this.wanted : false;
      if (msg.reason === "replaced") toast("Bạn đã tham gia từ một thiết bị khác.", "info", "You joined from another device.");
      if (msg.reason === "session_ended") this.wanted = false;  // logged out, disabled, link revoked: the error that follows says so
      if (!this.wanted) this.hangUp(msg.reason === "meeting_ended" ? "closed" : "ended");
      return;
    }
    if (msg.type === "error") {
      toast(msg.error.message, "error", msg.error.message_en);
      if (["not_found", "conflict", "permission_denied", "authentication_required", "meeting_ended"].includes(msg.error.code)) { this.wanted = false; this.hangUp("idle"); }
    }
  }

  async offer(iceServers) {
    if (this.pc) this.pc.close();
    const pc = (this.pc = new RTCPeerConnection({ iceServers }));
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    if (!this.camera) pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (ev) => {
      const el = ev.track.kind === "audio" ? this.audioEl : this.videoEl;
      if (ev.track.kind === "video") ev.track.onunmute = () => { this.videoEl.hidden = false; }; // only once the room sends pictures
      el.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      if (ev.track.kind === "audio") this.listen(el.srcObject);
      el.play().catch(() => {});
      this.render();
    };
    pc.onconnectionstatechange = () => { if (pc === this.pc && pc.connectionState === "failed") this.dropped(); };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
      setTimeout(done, 3000); // a slow interface must not hold the call: send what was gathered
    });
    this.ws.send(JSON.stringify({ type: "offer", sdp: pc.localDescription.sdp }));
  }

  async viaJanus(j, iceServers) {
    const Janus = await loadJanus();
    this.closeJanus();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const feeds = new Map(); // feed id -> its subscriber handle
    const fail = () => { if (this.janus === janus) this.dropped(); };
    const janus = (this.janus = new Janus({
      server: `${scheme}://${location.host}${j.url}`, token: j.token, iceServers, destroyOnUnload: true,
      success: () => janus.attach({
        plugin: "janus.plugin.videoroom",
        success: (pub) => { this.publisher = pub; pub.send({ message: { request: "join", ptype: "publisher", room: j.room, id: j.feed, display: j.display } }); },
        error: fail,
        onmessage: (msg, jsep) => {
          const pub = this.publisher;
          if (msg.videoroom === "joined") {
            const tracks = this.stream.getTracks().map((track) => ({ type: track.kind, capture: track, recv: false }));
            pub.createOffer({ tracks, success: (offer) => pub.send({ message: { request: "configure", audio: true, video: this.camera }, jsep: offer }), error: fail });
          }
          for (const p of msg.publishers || []) if (!feeds.has(p.id)) feeds.set(p.id, this.subscribe(janus, j, p.id, fail));
          const gone = msg.unpublished ?? msg.leaving;
          if (gone !== undefined && feeds.has(gone)) { feeds.get(gone).then((h) => h?.detach()); feeds.delete(gone); }
          if (jsep) pub.handleRemoteJsep({ jsep });
        },
      }),
      error: fail, // Janus or the relay went away: the call socket says why, the page reconnects
    }));
  }

  subscribe(janus, j, feed, fail) {
    let sub = null;
    return new Promise((done) => janus.attach({
      plugin: "janus.plugin.videoroom",
      success: (handle) => {
        sub = handle;
        sub.send({ message: { request: "join", ptype: "subscriber", room: j.room, streams: [{ feed }], offer_video: feed === j.room_feed } });
        done(sub);
      },
      error: () => done(null),
      onmessage: (msg, jsep) => {
        if (jsep && sub) sub.createAnswer({ jsep, tracks: [{ type: "data" }], success: (answer) => sub.send({ message: { request: "start" }, jsep: answer }), error: fail });
      },
      onremotetrack: (track, mid, on) => {
        if (!on) return;
        const stream = new MediaStream([track]);
        if (feed === j.room_feed) {
          const el = track.kind === "audio" ? this.audioEl : this.videoEl;
          if (track.kind === "video") { this.videoEl.hidden = false; }
          el.srcObject = stream;
          if (track.kind === "audio") this.listen(stream);
          el.play().catch(() => {});
        } else if (track.kind === "audio") { // another participant's voice
          const el = h("audio", { autoplay: true, dataset: { feed: String(feed) } });
          el.srcObject = stream;
          this.el.append(el);
          el.play().catch(() => {});
        }
      },
      webrtcState: (up) => { if (feed === j.room_feed) { if (up) { this.retry = 1000; this.set("connected"); } else fail(); } },
    }));
  }

  closeJanus() {
    const janus = this.janus;
    this.janus = null;
    this.publisher = null;
    for (const el of this.el.querySelectorAll("audio[data-feed]")) el.remove();
    if (janus) try { janus.destroy({ cleanupHandles: true, notifyDestroyed: false }); } catch { /* gone already */ }
  }

  listen(stream) {
    // a level meter of what the room sends (also how the tests check that the room is heard)
    const ctx = (this.audioCtx ||= new AudioContext());
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 4096;
    ctx.createMediaStreamSource(stream).connect(this.analyser);
  }

  /** The loudest frequency (Hz) of what the room sends, and its level in dB. */
  heard() {
    if (!this.analyser) return null;
    const bins = new Float32Array(this.analyser.frequencyBinCount);
    this.analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return { hz: (best * this.analyser.context.sampleRate) / this.analyser.fftSize, db: bins[best] };
  }

  dropped() {
    if (this.pc) { this.pc.close(); this.pc = null; }
    this.closeJanus();
    if (!this.wanted) return;
    this.set("reconnecting");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wanted && this.connect(), this.retry);
    this.retry = Math.min(10000, this.retry * 2);
  }

  mute() {
    this.muted = !this.muted;
    for (const t of this.stream?.getAudioTracks() || []) t.enabled = !this.muted;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "mute", muted: this.muted }));
    this.render();
  }

  leave() {
    this.wanted = false;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "leave" }));
    this.hangUp("ended");
  }

  hangUp(state) {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    if (this.pc) { this.pc.close(); this.pc = null; }
    this.closeJanus();
    for (const t of this.stream?.getTracks() || []) t.stop();
    this.stream = null;
    this.set(state);
  }

  set(state) { this.state = state; this.render(); }

  /** The meeting opened (or not yet): before it opens the join button waits, saying when it will work. */
  setOpened(opened) { if (opened !== this.opened) { this.opened = opened; this.render(); } }

  /** Marked present in the room: joining online is not what this tablet is for (echo, a second presence). */
  setInRoom(inRoom) { if (inRoom !== this.inRoom) { this.inRoom = inRoom; this.render(); } }

  render() {
    const on = ["starting", "connecting", "connected", "reconnecting"].includes(this.state);
    const cam = h("input", { type: "checkbox", id: "call-camera" });
    fill(this.el, h("h2", {}, "Họp trực tuyến ", h("span", { class: "en" }, "Join remotely")),
      h("p", { role: "status", id: "call-state", class: `badge ${this.state === "connected" ? "ok" : this.state === "reconnecting" ? "bad" : ""}`, dataset: { state: this.state } },
        STATE_VI[this.state] || this.state, STATE_EN[this.state] ? [" ", h("span", { class: "en" }, STATE_EN[this.state])] : null),
      on ? h("div", {},
        this.videoEl,
        this.audioEl,
        h("div", { class: "row" },
          h("button", { type: "button", class: "big", id: "call-mute", "aria-pressed": String(this.muted), onclick: () => this.mute() },
            this.muted ? "Bật micrô " : "Tắt micrô ", h("span", { class: "en" }, this.muted ? "Unmute" : "Mute")),
          h("button", { type: "button", class: "big danger", id: "call-leave", onclick: () => this.leave() }, "Rời cuộc họp ", h("span", { class: "en" }, "Leave"))))
        : h("div", {},
          h("label", { class: "choice" }, cam, "Bật camera của tôi ", h("span", { class: "en" }, "share my camera")),
          this.inRoom ? h("p", { class: "note", id: "call-in-room" }, "Bạn đã được điểm danh có mặt tại phòng họp: không cần tham gia trực tuyến. ",
            h("span", { class: "en" }, "You are marked present in the room: no need to join online.")) : null,
          h("button", { type: "button", class: this.inRoom ? "" : "primary big", id: "call-join", disabled: this.state === "closed" || !this.opened, onclick: () => this.join(cam.checked) },
            icon("phone"), this.inRoom ? " Vẫn tham gia trực tuyến" : " Tham gia trực tuyến", h("span", { class: "en" }, this.inRoom ? " Join online anyway" : " Join online")),
          this.opened ? null : h("p", { class: "muted", id: "call-not-yet" }, "Mở khi cuộc họp khai mạc. ", h("span", { class: "en" }, "Opens when the meeting opens."))));
  }
}

let janusLoaded = null;

/** janus.js and the WebRTC adapter it expects, from the server (npm packages under /static/vendor/), once. */
function loadJanus() {
  janusLoaded ||= (async () => {
    await new Promise((done, fail) => {
      const script = document.createElement("script");
      script.src = "/static/vendor/webrtc-adapter/out/adapter.js";
      script.onload = done;
      script.onerror = () => fail(new Error("webrtc-adapter"));
      document.head.append(script);
    });
    const { default: Janus } = await import("/static/vendor/janus-gateway/npm/dist/janus.es.js");
    await new Promise((done) => Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }), callback: done }));
    return Janus;
  })();
  return janusLoaded;
}
