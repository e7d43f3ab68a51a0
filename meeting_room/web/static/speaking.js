// The turn to speak at a glance, on the chair's console and on member pages: who has the floor and
// the time left of their turn (the limit the chair set; over time in red), "you" when it is the
// viewer's own turn, and, for those who run the meeting, how many asked to speak. It follows the
// hall's stream (/api/meetings/{id}/hall/stream, the view the hall's screen shows) with the page's
// own session; the page's element is <div id="speaking-now">. Each view is passed on as a "hallview"
// event on the document (the console's hall card follows it: one socket for both).
import { api, fill, h, icon } from "/static/app.js";

const meetingId = location.pathname.split("/").pop();
const el = document.getElementById("speaking-now");
const pad = (n) => String(n).padStart(2, "0");
const mmss = (s) => { s = Math.max(0, Math.round(s)); return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`; };
const st = { view: null, offset: 0, retry: 0, me: null, staff: false, speakerId: null, turn: null };

async function start() {
  if (!el) return;
  try {
    const [me, meeting] = await Promise.all([api("GET", "/api/auth/me"), api("GET", `/api/meetings/${meetingId}`)]);
    Object.assign(st, { me: me.id, staff: !!meeting.can?.run_meeting });
  } catch { return; } // the page itself says why (login, no access)
  connect();
  setInterval(tick, 250);
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/api/meetings/${meetingId}/hall/stream`);
  ws.onmessage = async (m) => {
    const msg = JSON.parse(m.data);
    if (msg.kind !== "hall") return;
    st.retry = 0;
    st.offset = Date.parse(msg.hall.now) - Date.now();
    const turn = msg.hall.speaker?.since || null;
    if (turn !== st.turn) { // a new turn: whose is it (the hall's view names people, it does not identify them)
      st.turn = turn;
      st.speakerId = turn ? (await api("GET", `/api/meetings/${meetingId}/floor`).catch(() => null))?.speaker?.member_id ?? null : null;
    }
    st.view = msg.hall;
    render();
    document.dispatchEvent(new CustomEvent("hallview", { detail: msg.hall })); // the console's card follows it too
  };
  ws.onclose = (e) => {
    if (e.code >= 4400 && e.code < 4500) return; // the session ended or access changed: the page handles that
    setTimeout(connect, Math.min(10, 2 ** st.retry++) * 1000);
  };
}

function render() {
  const v = st.view;
  const s = v?.speaker;
  const waiting = st.staff && v?.waiting ? v.waiting : 0;
  el.hidden = !s && !waiting;
  const mine = s && st.speakerId === st.me;
  fill(el,
    s ? h("span", { class: "speaking-who" }, icon("mic"), mine
      ? [h("b", {}, "Bạn đang phát biểu"), " ", h("span", { class: "en" }, "You have the floor")]
      : [h("span", {}, "Đang phát biểu ", h("span", { class: "en" }, "Speaking"), ": "), h("b", {}, s.full_name)]) : null,
    s ? h("span", { class: "speaking-timer", id: "speaking-timer", role: "timer" }) : null,
    waiting ? h("span", { class: "speaking-waiting", id: "speaking-waiting" }, icon("hand"), `${waiting} người xin phát biểu`, " ",
      h("span", { class: "en" }, `${waiting} asked to speak`)) : null);
  el.classList.toggle("mine", !!mine);
  tick();
}

function tick() {
  const s = st.view?.speaker;
  const timer = document.getElementById("speaking-timer");
  if (!s || !timer) return;
  const now = Date.now() + st.offset;
  if (!s.ends_at) {
    timer.textContent = `đã nói ${mmss((now - Date.parse(s.since)) / 1000)}`;
    timer.title = "Time speaking";
    return;
  }
  const left = (Date.parse(s.ends_at) - now) / 1000;
  timer.textContent = left >= 0 ? `còn ${mmss(left)}` : `quá giờ ${mmss(-left)}`;
  timer.title = left >= 0 ? "Time left" : "Over time";
  timer.classList.toggle("soon", left >= 0 && left <= 30);
  timer.classList.toggle("over", left < 0);
}

start();
