// The hall's big screen: the meeting, its current item, who speaks and their time left, the quorum,
// the vote of the moment (ballots cast while it is open, the result once published) and live captions.
// The server sends the whole view after every change (/api/meetings/{id}/hall/stream); this page only
// draws it and counts the seconds. Opened from a display link /hall/{id}#<token>: the token stays in
// the fragment (never sent in a URL the server logs) and goes with the WebSocket as ?token=. Without
// one, the viewer's own session is used (the chair previewing the screen).
import { fill, h, icon, toLogin } from "/static/app.js";

const meetingId = decodeURIComponent(location.pathname.split("/")[2] || "");
// The link's token leaves the address bar at once (a photo of the screen must not carry it) and is
// kept for this tab only, so a reload still works.
const token = (() => {
  const key = `hall-token:${meetingId}`;
  if (location.hash.length > 1) {
    sessionStorage.setItem(key, location.hash.slice(1));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(key);
})();
const $ = (id) => document.getElementById(id);
const state = { view: null, offset: 0, partial: null, retry: 0, gone: false, opened: 0 };

const pad = (n) => String(n).padStart(2, "0");
const mmss = (s) => { s = Math.max(0, Math.round(s)); return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`; };
const now = () => Date.now() + state.offset; // the server's clock: a countdown agrees on every screen
const pct = (p) => (p ? `${p.replace(".", ",")}%` : "—");

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const ws = new WebSocket(`${proto}://${location.host}/api/meetings/${encodeURIComponent(meetingId)}/hall/stream${query}`);
  state.ws = ws;
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.kind === "hall") {
      state.view = msg.hall;
      state.offset = Date.parse(msg.hall.now) - Date.now();
      state.retry = 0;
      state.partial = null;
      connection(null);
      render();
    } else if (msg.kind === "caption") {
      state.partial = msg.final || !msg.text ? null : msg;
      captions();
    } else if (msg.kind === "error") {
      state.error = msg.error;
    }
  };
  ws.onclose = (e) => {
    if (e.code === 4401 && !token) return toLogin(state.error?.code === "meeting_ended" ? "meeting" : true); // a viewer's own session ended
    if ([4401, 4403, 4404].includes(e.code)) {
      // revoked, expired, the meeting ended, or not this meeting's link: a dead link is not kept for the
      // next reload (in a tab where someone is logged in, that reload shows their own view again)
      if (token) sessionStorage.removeItem(`hall-token:${meetingId}`);
      return gone(state.error);
    }
    const wait = Math.min(10, 2 ** state.retry++) * 1000; // the server restarting: try again, and again
    connection("Mất kết nối — đang kết nối lại… / Reconnecting…");
    setTimeout(connect, wait);
  };
}

function connection(text) {
  const el = $("hall-connection");
  el.hidden = !text;
  el.textContent = text || "";
}

const ENDED = new Set(["closed", "cancelled", "minutes_signed", "archived"]);

function gone(error) {
  state.gone = true;
  document.title = "Màn hình hội trường";
  const last = state.view;
  // the meeting ended: say so, not that the link was taken away (its session can end before its last view arrives)
  if (last && (ENDED.has(last.state) || error?.code === "meeting_ended")) {
    fill($("hall"), h("section", { class: "hall-gone", id: "hall-gone" },
      h("h1", {}, last.title), h("p", {}, `${ENDED.has(last.state) ? last.state_label : "Cuộc họp đã kết thúc"}. Cảm ơn quý đại biểu và khách mời.`),
      h("p", { class: "hall-muted", lang: "en" }, "The meeting has ended.")));
    return;
  }
  fill($("hall"), h("section", { class: "hall-gone", id: "hall-gone" },
    h("h1", {}, "Màn hình hội trường không còn hiển thị cuộc họp này"),
    h("p", {}, error?.message || "Liên kết màn hình đã hết hiệu lực hoặc bị thu hồi. Hãy xin thư ký một liên kết mới."),
    h("p", { class: "hall-muted", lang: "en" }, error?.message_en || "The display link has expired or was revoked. Ask the secretary for a new one.")));
}

function render() {
  const v = state.view;
  if (!v || state.gone) return;
  document.title = `${v.title} — Màn hình hội trường`;
  $("hall-body").textContent = v.body;
  $("hall-title").textContent = v.title;
  const badge = $("hall-state");
  badge.textContent = v.state_label;
  badge.classList.toggle("live", v.state === "in_session");
  $("hall-item").textContent = v.item ? `Nội dung: ${v.item}` : "";
  speaker(v);
  quorum(v.quorum);
  vote(v.vote);
  captions();
  tick();
  fit();
}

// A card whose content is taller than the room the screen gives it (a long result, a name and an
// overtime) gets the dense sizes rather than being cut off: nothing on a projector scrolls.
function fit() {
  for (const card of document.querySelectorAll(".hall-card")) {
    card.classList.remove("dense");
    if (card.scrollHeight > card.clientHeight + 1) card.classList.add("dense");
  }
}

// English second, small, on the cards' headings: the hall reads Vietnamese; a guest still finds the way
const en = (text) => h("span", { class: "hall-en" }, text);

function speaker(v) {
  const s = v.speaker;
  fill($("hall-speaker"),
    h("h2", {}, icon("mic"), "Đang phát biểu", en("Speaking")),
    s ? [h("p", { class: "hall-name", id: "hall-speaker-name" }, s.full_name), h("p", { class: "hall-timer", id: "hall-timer" })]
      : h("p", { class: "hall-muted hall-name" }, "Chưa có người phát biểu"),
    v.waiting ? h("p", { class: "hall-waiting", id: "hall-waiting" }, icon("hand"), `${v.waiting} người đăng ký phát biểu`) : null);
}

function quorum(q) {
  fill($("hall-quorum"),
    h("h2", {}, "Có mặt", en("Present")),
    h("p", { class: "hall-big", id: "hall-present" }, `${q.present}/${q.expected}`),
    h("p", { class: q.reached ? "hall-ok" : "hall-bad", id: "hall-quorum-state" },
      q.reached ? "Đủ số lượng để tiến hành" : "Chưa đủ số lượng", h("span", { class: "hall-muted" }, ` (cần ${q.needed}, tức 2/3)`)));
}

function vote(p) {
  const el = $("hall-vote");
  if (!p) {
    fill(el, h("h2", {}, "Biểu quyết", en("Vote")), h("p", { class: "hall-muted" }, "Chưa có biểu quyết."));
    return;
  }
  const kind = p.secret ? "Bỏ phiếu kín" : "Biểu quyết công khai";
  const cast = p.eligible ? `${p.ballots_cast}/${p.eligible}` : `${p.ballots_cast}`;
  const meter = (share) => { const bar = h("span"); bar.style.width = `${Math.min(100, Math.max(0, share * 100))}%`; return h("div", { class: "hall-meter" }, bar); };
  if (p.state === "open") {
    fill(el, h("h2", {}, `Đang biểu quyết · ${kind}`, en(p.secret ? "Secret ballot open" : "Vote open")), h("h3", {}, p.title),
      h("p", {}, "Đã biểu quyết: ", h("b", { class: "hall-big", id: "hall-cast" }, cast)),
      meter(p.eligible ? p.ballots_cast / p.eligible : 0),
      p.closes_at ? h("p", {}, "Thời gian còn lại: ", h("b", { id: "hall-vote-timer" })) : null,
      h("p", { class: "hall-rule" }, `Cách tính: ${p.rule}`));
  } else if (p.state === "closed") {
    fill(el, h("h2", {}, `Đã kết thúc biểu quyết · ${kind}`, en("Vote closed")), h("h3", {}, p.title),
      h("p", {}, "Số phiếu: ", h("b", { class: "hall-big", id: "hall-cast" }, cast)),
      h("p", { class: "hall-muted", id: "hall-awaiting" }, "Đang chờ chủ tọa công bố kết quả."),
      h("p", { class: "hall-rule" }, `Cách tính: ${p.rule}`));
  } else {
    const r = p.result;
    const base = Math.max(1, r.base_count);
    fill(el, h("h2", {}, `Kết quả biểu quyết · ${kind}`, en("Result")), h("h3", {}, p.title),
      h("p", { class: `hall-outcome ${r.outcome}`, id: "hall-outcome" }, r.outcome_label),
      h("ul", { class: "hall-bars", id: "hall-bars" }, r.options.map((o) => h("li", { class: `hall-bar${o.selected ? " selected" : ""}` },
        h("span", {}, o.label), h("b", {}, `${o.votes} · ${pct(o.percent)}`), meter(o.votes / base)))),
      // the reason names the rule's figures (what passed, against what): the rule's own line went, so
      // the result keeps the large type on a 1080p screen (a walk-through found it at 22 px)
      h("p", { class: "hall-rule", id: "hall-reason" }, r.reason));
  }
}

function captions() {
  const v = state.view;
  if (!v || state.gone) return;
  const lines = v.captions.slice(-2);
  const line = (l, cls) => h("p", { class: cls }, l.speaker ? h("span", { class: "who" }, `${l.speaker}: `) : null, l.text);
  fill($("hall-captions"),
    lines.map((l, i) => line(l, state.partial || i < lines.length - 1 ? "old" : null)),
    state.partial ? line(state.partial, "partial") : null,
    !lines.length && !state.partial ? h("p", { class: "hall-muted" }, "Phụ đề trực tiếp sẽ hiện ở đây.") : null);
}

// Every quarter second: the clock, the speaker's time left (or over), the vote's time left.
function tick() {
  const v = state.view;
  if (!v || state.gone) return;
  const t = now();
  $("hall-clock").textContent = new Date(t).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh" });
  const timer = $("hall-timer");
  if (timer && v.speaker) {
    if (v.speaker.ends_at) {
      const left = (Date.parse(v.speaker.ends_at) - t) / 1000;
      timer.textContent = left >= 0 ? mmss(left) : `quá giờ ${mmss(-left)}`; // the words of the console and the member page
      timer.classList.toggle("soon", left >= 0 && left <= 30);
      timer.classList.toggle("over", left < 0);
    } else timer.textContent = mmss((t - Date.parse(v.speaker.since)) / 1000); // no limit: how long they have spoken
  }
  const voteTimer = $("hall-vote-timer");
  if (voteTimer && v.vote?.closes_at) voteTimer.textContent = mmss((Date.parse(v.vote.closes_at) - t) / 1000);
}

document.body.classList.add("hall-page");
setInterval(tick, 250);
connect();
