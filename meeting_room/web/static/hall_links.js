// The chair console's card for the hall and the room (<section id="hall-links">), for those who run
// the meeting: the hall display's link (create, copy, open, revoke), how long a turn to speak may
// last (the meeting's default and the current item's own), and attendance at speed ("Tất cả có mặt";
// an excused absence is recorded in the attendance card, meeting.js). Kept apart from chair.js; it re-reads what it shows after
// each tap and when the meeting's state, agenda or attendance changes (speaking.js passes on the hall's view).
import { act, api, bi, fill, fmtDateTime, h, icon, toast } from "/static/app.js";
import { qrFigure } from "/static/qr_print.js";

const meetingId = location.pathname.split("/").pop();
const el = document.getElementById("hall-links");
const base = `/api/meetings/${meetingId}`;
const urls = new Map(); // link id -> its address, known only to the page that created it (the server keeps a hash)
const figures = new Map(); // link id -> its QR code (sent with the address), built once: the card is redrawn after each change
const revokes = new Map(); // link id -> its revoke button, built once (see linkRow)
const LIMITS = [[null, "Không giới hạn / No limit"], ...[1, 2, 3, 5, 7, 10, 15].map((n) => [60 * n, `${n} phút / ${n} min`])];
const st = { meeting: null, agenda: [], links: [], participants: [] };

// A tap arms the button; a second tap within 5 s does it (as the console's other destructive actions).
function twoTaps(button, armedLabel, fn) {
  if (button.dataset.armed) { delete button.dataset.armed; button.textContent = button.dataset.label; return act(button, fn); }
  Object.assign(button.dataset, { label: button.textContent, armed: "1" });
  button.textContent = armedLabel;
  setTimeout(() => { if (button.dataset.armed) { delete button.dataset.armed; button.textContent = button.dataset.label; } }, 5000);
  return undefined;
}

async function load() {
  const [meeting, agenda, links, attendance] = await Promise.all([
    api("GET", base), api("GET", `${base}/agenda`), api("GET", `${base}/displays`), api("GET", `${base}/attendance`)]);
  Object.assign(st, { meeting, agenda, links, participants: attendance.records });
  render();
}

async function start() {
  if (!el) return;
  try { st.meeting = await api("GET", base); } catch { el.hidden = true; return; }
  if (!st.meeting.can?.run_meeting) { el.hidden = true; return; } // a member on this page gets nothing of it
  await load().catch(() => {});
  follow();
}

// Re-read when the meeting, its agenda or its attendance changes: the hall's view, as speaking.js
// (on the same page) receives it, says so.
function follow() {
  let last = null;
  document.addEventListener("hallview", (e) => {
    const key = JSON.stringify([e.detail.state, e.detail.item, e.detail.quorum]);
    if (last !== null && key !== last) load().catch(() => {});
    last = key;
  });
}

function limitSelect(id, value, label, onPick, inherit = null) {
  const options = inherit ? [["inherit", inherit], ...LIMITS] : LIMITS;
  const select = h("select", { id }, options.map(([v, text]) => h("option", { value: String(v), selected: String(v) === String(value) }, text)));
  select.addEventListener("change", () => act(select, async () => {
    const v = select.value;
    await onPick(v === "inherit" || v === "null" ? null : Number(v));
    toast("Đã lưu thời gian phát biểu.", "ok", "Speaking time saved.");
    await load();
  }));
  return h("label", { class: "row", for: id }, h("span", { class: "grow" }, label), select);
}

function render() {
  const m = st.meeting;
  const ended = ["closed", "cancelled", "minutes_signed", "archived"].includes(m.state);
  const running = ["open", "in_session", "adjourned"].includes(m.state);
  const item = st.agenda.find((i) => i.id === m.current_item_id);
  const active = st.links.filter((l) => !l.revoked);
  const setLimit = (body) => api("PUT", `${base}/floor/limit`, body);

  const create = h("button", { type: "button", id: "hall-link-create", disabled: ended }, icon("document"), "Tạo liên kết màn hình ", h("span", { class: "en" }, "Make a display link"));
  create.addEventListener("click", () => act(create, async () => {
    const link = await api("POST", `${base}/displays`, {});
    urls.set(link.id, link.url);
    figures.set(link.id, qrFigure({ ...link, meeting: st.meeting.title, what: "Màn hình hội trường",
      hint: "Mở liên kết trên máy tính nối với máy chiếu hoặc TV trong hội trường (quét mã, hoặc gõ địa chỉ dưới đây)." }));
    toast("Đã tạo liên kết màn hình hội trường. Mở liên kết trên máy chiếu hoặc TV trong hội trường.", "ok", "Hall display link made: open it on the hall's projector or TV.");
    await load();
  }));

  const linkRow = (l) => {
    const url = urls.get(l.id);
    // kept across redraws (a change of attendance redraws this card): a first tap's arming must survive it
    const revoke = revokes.get(l.id) || h("button", { type: "button", class: "danger", dataset: { link: l.id } }, "Thu hồi");
    if (!revokes.has(l.id)) {
      revokes.set(l.id, revoke);
      revoke.addEventListener("click", () => twoTaps(revoke, "Chạm lần nữa để thu hồi", async () => {
        await api("DELETE", `${base}/displays/${l.id}`);
        urls.delete(l.id);
        figures.delete(l.id);
        revokes.delete(l.id);
        toast("Đã thu hồi liên kết: màn hình dùng nó sẽ tắt.", "ok", "Link revoked: the screen using it goes dark.");
        await load();
      }));
    }
    const copy = url ? h("button", { type: "button", class: "hall-link-copy" }, icon("copy"), "Sao chép") : null;
    copy?.addEventListener("click", () => act(copy, async () => {
      try { await navigator.clipboard.writeText(url); } catch { input.select(); document.execCommand("copy"); }
      toast("Đã sao chép liên kết.", "ok", "Link copied.");
    }));
    const input = url ? h("input", { type: "text", readonly: true, value: url, class: "hall-link-url", "aria-label": "Liên kết màn hình hội trường" }) : null;
    return h("li", { dataset: { link: l.id } },
      h("div", { class: "muted" }, `Tạo lúc ${fmtDateTime(l.created_at)}, dùng đến ${fmtDateTime(l.expires_at)}`),
      input,
      figures.get(l.id) || null,
      h("div", { class: "row" },
        copy, url ? h("a", { class: "button", href: url, target: "_blank", rel: "noopener", id: "hall-link-open" }, "Mở màn hình") : null,
        url ? null : h("span", { class: "muted grow" }, "Liên kết chỉ hiện một lần, khi tạo."),
        revoke));
  };

  const waiting = st.participants.filter((r) => !r.status || r.status === "absent_unexcused"); // what "Tất cả có mặt" marks
  const allPresent = h("button", { type: "button", class: "primary", id: "all-present", disabled: !running || !waiting.length }, "Tất cả có mặt ", h("span", { class: "en" }, "All present"));
  allPresent.addEventListener("click", () => act(allPresent, async () => {
    const out = await api("POST", `${base}/attendance/all-present`);
    toast(`Đã ghi có mặt. Có mặt ${out.summary.present}/${out.summary.expected}.`, "ok", `Marked present: ${out.summary.present}/${out.summary.expected}.`);
    await load();
  }));

  fill(el,
    h("h2", {}, "Màn hình hội trường ", h("span", { class: "en" }, "Hall display")),
    active.length ? h("ul", { class: "plain", id: "hall-link-list" }, active.map(linkRow)) : h("p", { class: "muted" }, "Chưa có liên kết màn hình. ", h("span", { class: "en" }, "No display link yet.")),
    create,
    h("h2", {}, "Thời gian phát biểu ", h("span", { class: "en" }, "Speaking time")),
    limitSelect("limit-meeting", m.speaking_limit_s ?? null, ["Mỗi lượt (mặc định) ", h("span", { class: "en" }, "Each turn (default)")], (s) => setLimit({ seconds: s })),
    item ? limitSelect("limit-item", item.speaking_limit_s ?? "inherit", [`Mục ${item.position} `, h("span", { class: "en" }, `Item ${item.position}`)],
      (s) => setLimit({ seconds: s, item_id: item.id }), "Theo mặc định / As the default") : null,
    h("h2", {}, "Điểm danh nhanh ", h("span", { class: "en" }, "Quick attendance")),
    h("div", { class: "row" }, allPresent, h("span", { class: "muted grow" }, ...(waiting.length ? bi(`${waiting.length} người chưa có mặt`, `${waiting.length} not marked present`)
      : bi("Mọi người đã được điểm danh.", "Everyone is marked.")))));
}

start();
