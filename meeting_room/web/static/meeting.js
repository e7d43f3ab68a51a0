// A meeting followed live: the state every meeting page shows (agenda, attendance, floor, polls,
// captions), kept current from the meeting stream. Events re-read the resource they change, once
// per burst; captions come straight from the events.
import { act, api, bi, clock, coalesce, fill, h, icon, MeetingStream, showError, toast } from "/static/app.js";
import { readHere } from "/static/viewer.js"; // a document opens over the page, which stays as it was

// A meeting's states as its pages treat them: people meet while it runs, speak and vote only in
// session; once ended, every page is a record of it.
const RUNNING = new Set(["open", "in_session", "adjourned"]);
const ENDED = new Set(["closed", "minutes_signed", "archived", "cancelled"]);

const STATUS_VI = { present_in_room: "Có mặt tại phòng", present_online: "Trực tuyến", absent_excused: "Vắng có lý do", absent_unexcused: "Vắng không lý do", left: "Đã rời", };

export class LiveMeeting {
  // extra: resources only some pages follow ("calls", "invitations": the chair's console).
  constructor(meetingId, me, onChange, extra = []) {
    Object.assign(this, { id: meetingId, me, onChange, extra });
    this.speakers = new Map(); // pass:cluster -> name
    this.lines = []; // final caption lines, newest last
    this.partial = null;
    this.tallies = new Map(); // poll id -> live tally message (those with can.see_live_tally)
    this.counted = new Map(); // poll id -> the highest count of ballots the stream has said (a read answered earlier must not lower it)
    this.asked = {}; // resource -> number of reads asked for; shown: the number of the read shown
    this.shown = {};
    this.refresh = {
      meeting: coalesce(() => this.load("meeting")),
      agenda: coalesce(() => this.load("agenda")),
      polls: coalesce(() => this.load("polls")),
      floor: coalesce(() => this.load("floor")),
      attendance: coalesce(() => this.load("attendance")),
    };
    for (const k of extra) this.refresh[k] = coalesce(() => this.load(k));
  }

  async start() {
    await Promise.all(["meeting", "agenda", "polls", "floor", "attendance", "participants", ...this.extra].map((k) => this.load(k)));
    this.seen = this.meeting?.last_event_id ?? 0; // what the reads above already reflect
    this.stream = new MeetingStream(this.id, (msg) => this.onMessage(msg));
  }

  async load(what) {
    const base = `/api/meetings/${this.id}`;
    const url = { meeting: base, agenda: `${base}/agenda`, polls: `${base}/polls`, floor: `${base}/floor`, attendance: `${base}/attendance`,
      participants: `${base}/participants`, calls: `${base}/calls`, invitations: `${base}/invitations` }[what];
    // Reads of one resource may come back out of order (a tap's own re-read and the stream's):
    // a reply older than the one shown is dropped, or a stale list would stay until the next event.
    const seq = (this.asked[what] = (this.asked[what] || 0) + 1);
    try {
      const data = await api("GET", url);
      if (seq < (this.shown[what] || 0)) return;
      this.shown[what] = seq;
      if (what === "polls") for (const p of data) if (p.state === "open" && this.counted.has(p.id)) p.ballots_cast = Math.max(p.ballots_cast, this.counted.get(p.id));
      this[what] = what === "calls" ? data.calls : data;
      this.onChange(what);
    } catch (err) { showError(err); }
  }

  // What the viewer may do here, as the server computed it (never re-derived from roles on the page).
  get can() { return this.meeting?.can || {}; }
  get staff() { return !!this.can.run_meeting; }
  get running() { return RUNNING.has(this.meeting?.state); }
  get inSession() { return this.meeting?.state === "in_session"; }
  get ended() { return ENDED.has(this.meeting?.state); }
  // One term per thing: “đại biểu” in a People's Council, “thành viên” elsewhere (the body's setting).
  get memberTerm() { return this.meeting?.member_term || "thành viên"; }
  get memberTermEn() { return this.meeting?.member_term_en || "member"; }

  onMessage(msg) {
    if (msg.kind === "ready") {
      // The backlog skipped re-reads; catch up once, and only if it held events newer than what was read.
      if (this.stream.last > this.seen) for (const r of Object.values(this.refresh)) r();
      else if (this.wasReady) { // back after a break (the server restarted?): what is not an event may have changed
        this.refresh.polls(); // a secret ballot box locked by the restart
        if (this.refresh.calls) this.refresh.calls(); // calls
      }
      this.wasReady = true;
      this.seen = this.stream.last;
      this.onChange("captions");
      return;
    }
    if (msg.kind === "attendance") { this.refresh.attendance(); return; } // the records (not only the counts) changed
    if (msg.kind === "count") { if (!this.countBallot(msg)) this.refresh.polls(); return; } // others' ballots, one message a burst
    if (msg.kind === "tally") { this.tallies.set(msg.poll_id, msg); this.onChange("tally"); return; }
    if (msg.kind === "caption") { this.partial = msg; this.onChange("captions"); return; }
    if (msg.kind === "calls") { this.calls = msg.calls; this.onChange("calls"); return; }
    if (msg.kind !== "event") return;
    const e = msg.event, d = e.data;
    const type = e.type;
    if (type === "transcript.speakers") for (const s of d.speakers) this.speakers.set(`${d.pass_id}:${s.cluster}`, s.name);
    else if (type === "transcript.speaker_relabelled") { this.speakers.set(`${d.pass_id}:${d.cluster}`, d.name); this.onChange("captions"); }
    else if (type === "transcript.segment") {
      this.lines.push({ key: `${d.pass_id}:${d.cluster}`, start: d.start, text: d.text, pass: d.pass_id });
      if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
      this.partial = null;
      if (this.stream?.ready) this.onChange("captions");
    }
    if (!this.stream?.ready) return; // the backlog: one catch-up read at "ready" instead of one per event
    this.seen = e.id;
    if (type.startsWith("meeting.invitation_")) { this.refresh.invitations?.(); return; }
    if (type.startsWith("meeting.")) { this.refresh.meeting(); this.refresh.attendance(); }
    if (type.startsWith("agenda.") || type.startsWith("document.")) { this.refresh.agenda(); this.refresh.meeting(); }
    if (type === "poll.ballot_cast" && this.countBallot(d)) return;
    if (type.startsWith("poll.")) this.refresh.polls();
    if (type.startsWith("floor.")) this.refresh.floor();
    if (type.startsWith("room.")) this.refresh.meeting(); // a room device lost or back
    if (type.startsWith("attendance.")) this.refresh.attendance();
  }

  // Another member's ballot changes only the poll's count, which the event carries: every open page
  // re-reading the polls for each ballot of a hall voting at once was a read per page per burst, the
  // server's whole time while it counted. Our own ballot (our status) and an unknown poll re-read.
  countBallot(d) {
    this.counted.set(d.poll_id, Math.max(this.counted.get(d.poll_id) || 0, d.ballots_cast));
    const poll = Array.isArray(this.polls) ? this.polls.find((p) => p.id === d.poll_id) : null;
    if (!poll || d.voter_id === this.me?.id) return false;
    poll.ballots_cast = Math.max(poll.ballots_cast, d.ballots_cast);
    this.onChange("polls");
    return true;
  }

  speakerName(line) { return this.speakers.get(line.key) || "Người nói"; }
}

// --- panels shared by the chair console and the member page -------------------------------------

export function agendaPanel(live, el, { onTake } = {}) {
  const items = live.agenda || [];
  const current = live.meeting?.current_item_id;
  // the chair's most frequent move, one large target: the item after the current one (or the first)
  const next = items[current ? items.findIndex((i) => i.id === current) + 1 : 0];
  const discussed = live.inSession; // "under discussion" only while the session sits
  if (!live.running) onTake = null; // items are taken only while the meeting runs
  fill(el, h("h2", {}, "Chương trình họp ", h("span", { class: "en" }, "Agenda")),
    onTake && next ? h("button", { type: "button", class: "primary", id: "next-item", onclick: (ev) => onTake(next, ev.currentTarget) }, `Mục tiếp theo ▶ ${next.position}. ${next.title}`) : null,
    items.length ? h("ol", { class: "plain agenda" }, items.map((item) => h("li", { class: item.id === current ? "current" : null, "aria-current": item.id === current ? "step" : null },
      h("div", { class: "row" }, h("span", { class: "grow" }, `${item.position}. ${item.title}`),
        onTake && item.id !== current ? h("button", { type: "button", class: "two-line", onclick: (ev) => onTake(item, ev.currentTarget) }, "Chuyển sang mục này", h("span", { class: "en" }, "Go to this item")) : null,
        item.id === current && discussed ? h("span", { class: "badge live" }, "Đang thảo luận") : null),
      item.documents.length ? h("ul", {}, item.documents.map((d) => h("li", {}, h("a", { href: d.url, target: "_blank", rel: "noopener", id: `doc-${d.id}`, dataset: { document: d.id }, onclick: readHere(live.id, d) }, icon("document"), ` ${d.title}`), h("span", { class: "muted" }, ` (${d.pages} trang)`)))) : null)))
      : h("p", { class: "muted" }, "Chưa có chương trình. ", h("span", { class: "en" }, "No agenda yet.")));
}

// For the chair and secretary each name has one-tap buttons: present in the room, or absent.
export function attendancePanel(live, el) {
  const a = live.attendance;
  const mark = (r, status) => (ev) => act(ev.currentTarget, async () => {
    await api("PUT", `/api/meetings/${live.id}/attendance/${r.member_id}`, { status });
    await live.load("attendance");
  });
  // a cancelled meeting was never held: "no quorum" and a list to mark would say otherwise (a walk-through)
  el.hidden = live.meeting?.state === "cancelled";
  if (!a || el.hidden) return;
  const s = a.summary;
  // open on the console (those who mark it) until the person folds it; a re-render keeps it as they left it
  const listOpen = el.dataset.folded ? el.querySelector("details")?.open : live.staff;
  const marks = live.staff && live.running;
  const sheet = document.getElementById("attendance-sheet");
  if (sheet && !sheet.hidden) {
    if (marks) attendanceSheet(live, mark);
    else sheet.hidden = true; // the session ended: nothing to mark
  }
  const expected = Math.max(1, s.expected);
  const quorum = s.quorum_needed; // the server's rule (the hall shows the same)
  const ok = s.quorum_reached;
  fill(el, h("h2", {}, "Điểm danh ", h("span", { class: "en" }, "Attendance")),
    h("div", { class: "stat compact four", "aria-label": "Tình hình tham dự" },
      h("div", {}, h("b", { id: "present-room" }, s.present_in_room), "Tại phòng họp", h("span", { class: "en" }, "In the room")),
      h("div", {}, h("b", { id: "present-online" }, s.present_online), "Trực tuyến", h("span", { class: "en" }, "Online")),
      h("div", {}, h("b", { id: "absent" }, s.absent_excused + s.absent_unexcused), "Vắng", h("span", { class: "en" }, "Absent")),
      h("div", {}, h("b", { id: "not-recorded" }, s.not_recorded), "Chưa điểm danh", h("span", { class: "en" }, "Not recorded"))),
    h("p", { class: "quorum" }, h("span", { id: "quorum", class: `badge ${ok ? "ok" : "bad"}` }, ok ? "Đủ số lượng " : "Chưa đủ số lượng ",
      h("span", { class: "en" }, ok ? "Quorum" : "No quorum")),
      ` Có mặt ${s.present}/${s.expected} (cần ${quorum}, tức 2/3).`),
    h("div", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": s.expected, "aria-valuenow": s.present }, h("span", { style: `width:${(100 * s.present) / expected}%` })),
    marks ? h("button", { type: "button", id: "attendance-sheet-open", class: "primary", onclick: () => { attendanceSheet(live, mark).hidden = false; } },
      // the count beside the quorum's "present/expected" (voting members) must not read as another total
      h("span", {}, "Điểm danh nhanh", unmarkedCount(a.records))) : null, // one line of text, not two flex columns
    ...a.records.filter((r) => live.staff && r.face_check === "mismatch").map((r) => h("p", { class: "card warn face-mismatch", role: "alert" },
      `Cảnh báo: khuôn mặt trong camera của ${r.full_name} (trực tuyến) không khớp với ảnh đăng ký`,
      r.face_check_looks_like ? ` — giống ${r.face_check_looks_like}` : "", ". ",
      h("span", { class: "en" }, `The face on ${r.full_name}'s camera does not match their enrolment.`))),
    marks ? excusedForm(live, a.records) : null,
    h("details", { open: listOpen }, h("summary", { onclick: () => { el.dataset.folded = "1"; } }, "Danh sách ", h("span", { class: "en" }, "List")),
      h("ul", { class: "plain attendance-list" }, a.records.map((r) => h("li", { dataset: { member: r.member_id } },
        h("span", { class: "grow" }, h("b", {}, r.full_name), " — ", STATUS_VI[r.status] || "Chưa điểm danh", r.late ? h("span", { class: "muted" }, ` (muộn ${r.late_minutes} phút)`) : null,
          faceCheck(r)),
        marks && !String(r.status).startsWith("present") ? h("button", { type: "button", onclick: mark(r, "present_in_room"), "aria-label": `${r.full_name} có mặt` }, "Có mặt") : null,
        marks && r.status !== "absent_unexcused" && r.status !== "absent_excused" ? h("button", { type: "button", onclick: mark(r, "absent_unexcused"), "aria-label": `${r.full_name} vắng` }, "Vắng") : null)))));
}

// An excused absence, with its reason, where attendance is taken (walk-through: it sat in the hall
// display's card). Built once: the card redraws on every change, and what is chosen and typed stays.
let excused = null;
function excusedForm(live, records) {
  if (!excused) {
    const who = h("select", { id: "excused-who", "aria-label": "Người vắng có lý do" });
    const reason = h("input", { type: "text", id: "excused-reason", maxlength: 500, placeholder: "Lý do vắng (bắt buộc)", "aria-label": "Lý do vắng" });
    const send = h("button", { type: "submit" }, "Ghi vắng có lý do");
    excused = h("form", { class: "row", id: "excused-form" }, who, reason, send);
    excused.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!who.value || !reason.value.trim()) { toast("Hãy chọn người vắng và ghi lý do.", "error", "Choose who is absent and give the reason."); return; }
      act(send, async () => {
        await api("PUT", `/api/meetings/${live.id}/attendance/${who.value}`, { status: "absent_excused", reason: reason.value.trim() });
        reason.value = "";
        toast("Đã ghi vắng có lý do.", "ok", "Excused absence recorded.");
        await live.load("attendance");
      });
    });
  }
  const who = excused.querySelector("select"), chosen = who.value;
  who.replaceChildren(h("option", { value: "" }, "— Vắng có lý do: chọn người —"),
    ...records.filter((r) => r.status !== "absent_excused").map((r) => h("option", { value: r.member_id }, r.full_name)));
  who.value = records.some((r) => r.member_id === chosen && r.status !== "absent_excused") ? chosen : "";
  return excused;
}

// A remote participant's own camera, checked against their enrolment (face_check_online).
function faceCheck(r) {
  if (r.face_check === "confirmed") return h("span", { class: "badge ok", title: "Face confirmed by their camera" }, " Đã xác nhận khuôn mặt");
  if (r.face_check === "mismatch") return h("span", { class: "badge bad", title: "The face on their camera is not theirs" }, " Khuôn mặt không khớp");
  return null;
}

// Attendance at speed: everyone on one screen (a council of 20 to 60), one tap a person: someone
// not yet present is marked present, someone present is marked absent. It covers the console until
// "Xong"; a change from elsewhere redraws it in place.
// The counts are the voting participants' (the quorum's); guests are listed too, and counted apart.
function unmarkedCount(records) {
  const text = unmarkedText(records);
  return text ? h("span", {}, ` · còn ${text}`) : null;
}

function unmarkedText(records) {
  const voting = records.filter((r) => !r.status && r.role !== "guest").length;
  const guests = records.filter((r) => !r.status && r.role === "guest").length;
  return [voting ? `${voting} đại biểu` : "", guests ? `${guests} khách mời` : ""].filter(Boolean).join(", ");
}

function attendanceSheet(live, mark) {
  let sheet = document.getElementById("attendance-sheet");
  if (!sheet) {
    sheet = h("div", { id: "attendance-sheet", class: "sheet", role: "dialog", "aria-label": "Điểm danh nhanh", hidden: true });
    document.body.append(sheet);
  }
  const a = live.attendance;
  const s = a.summary;
  const still = unmarkedText(a.records);
  fill(sheet,
    h("div", { class: "row sheet-head" },
      h("h2", { class: "grow" }, "Điểm danh nhanh ", h("span", { class: "en" }, "Quick attendance")),
      h("span", { id: "sheet-count" }, `Có mặt ${s.present}/${s.expected} đại biểu`, still ? ` · còn ${still}` : ""),
      h("button", { type: "button", id: "sheet-all-present", disabled: !s.not_recorded && !s.absent_unexcused,
        onclick: (ev) => act(ev.currentTarget, async () => { await api("POST", `/api/meetings/${live.id}/attendance/all-present`); await live.load("attendance"); }) },
        "Tất cả có mặt"),
      h("button", { type: "button", class: "primary", id: "attendance-sheet-close", onclick: () => { sheet.hidden = true; } }, "Xong")),
    h("p", { class: "muted" }, "Chạm vào tên để ghi có mặt; chạm lần nữa để ghi vắng. Vắng có lý do: ghi ở thẻ Điểm danh, dưới nút Điểm danh nhanh. ",
      h("span", { class: "en" }, "Tap a name to mark present; tap again to mark absent. Excused absences: in the Attendance card.")),
    h("ul", { class: "plain chips" }, a.records.map((r) => {
      const present = String(r.status).startsWith("present");
      const kind = present ? "present" : r.status ? "absent" : "unmarked";
      return h("li", { dataset: { member: r.member_id } },
        h("button", { type: "button", class: `chip ${kind}`, onclick: mark(r, present ? "absent_unexcused" : "present_in_room"),
          "aria-label": `${r.full_name} ${present ? "vắng" : "có mặt"}` },
          h("b", {}, r.full_name), h("span", {}, STATUS_VI[r.status] || "Chưa điểm danh", r.role === "guest" ? " · khách mời" : "")));
    })));
  return sheet;
}

export function captionsPanel(live, el) {
  const box = el.querySelector(".captions") || el.appendChild(h("div", { class: "captions", "aria-live": "polite", "aria-label": "Phụ đề trực tiếp" }));
  if (!el.querySelector("h2")) el.prepend(h("h2", {}, "Phụ đề trực tiếp ", h("span", { class: "en" }, "Live captions")));
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
  fill(box, live.lines.slice(-60).map((l) => h("p", {}, h("span", { class: "muted" }, `[${clock(l.start)}] `), h("span", { class: "who" }, `${live.speakerName(l)}: `), l.text)),
    live.partial ? h("p", { class: "partial" }, live.partial.speaker ? h("span", { class: "who" }, `${live.partial.speaker}: `) : null, live.partial.text) : null,
    !live.lines.length && !live.partial ? h("p", { class: "muted" }, "Chưa có lời phát biểu nào được ghi. ", h("span", { class: "en" }, "Nothing said has been captioned yet.")) : null);
  if (stick) box.scrollTop = box.scrollHeight;
}

export function floorList(live) {
  const f = live.floor || { speaker: null, queue: [] };
  return [
    h("p", { id: "speaker-now" }, f.speaker ? ["Đang phát biểu ", h("span", { class: "en" }, "Speaking"), ": ", h("b", {}, f.speaker.full_name)] : h("span", { class: "muted" }, "Không có ai đang phát biểu. ", h("span", { class: "en" }, "Nobody has the floor."))),
    f.queue.length ? h("ol", { id: "floor-queue" }, f.queue.map((w) => h("li", { dataset: { member: w.member_id } }, w.full_name))) : h("p", { class: "muted", id: "floor-queue" }, "Chưa có ai đăng ký phát biểu. ", h("span", { class: "en" }, "No one has asked to speak yet.")),
  ];
}

// "Còn 1:48" until an open vote's deadline, ticking while it is on the page.
export function countdown(poll, attrs = {}) {
  if (!poll.closes_at) return null;
  const el = h("span", { class: "badge", "data-countdown": poll.closes_at, ...attrs });
  const tick = () => {
    const s = Math.max(0, Math.round((new Date(poll.closes_at) - Date.now()) / 1000));
    el.textContent = `Còn ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    if (s > 0 && (el.isConnected || !el.dataset.started)) { el.dataset.started = "1"; setTimeout(tick, 1000); }
  };
  tick();
  return el;
}

export function resultBlock(result) {
  if (!result) return null;
  return h("div", {},
    h("div", { class: `result ${result.outcome}`, role: "status" }, `Kết quả: ${result.outcome_label}`),
    h("p", {}, result.reason, h("br"), h("span", { class: "en" }, result.reason_en)),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Phương án"), h("th", {}, "Số phiếu"), h("th", {}, "Tỷ lệ"))),
      h("tbody", {}, result.options.map((o) => h("tr", {}, h("td", {}, o.selected ? h("b", {}, o.label) : o.label), h("td", {}, o.votes), h("td", {}, o.percent ? `${o.percent.replace(".", ",")}%` : "—"))))),
    result.opinions?.length ? h("div", {}, h("h3", {}, "Ý kiến"), h("ul", {}, result.opinions.map((g) => h("li", {}, g.text, g.count > 1 ? ` (×${g.count})` : "")))) : null);
}

// A named vote's ballots, each under its voter's name (what makes it a named vote), for whoever may
// see the result: loaded when first opened (a closed poll's ballots no longer change), and kept open
// across the page's redraws (every event redraws the votes).
const namedLoaded = new Map(); // poll id -> its ballots
const namedLoading = new Map(); // poll id -> the request under way (a redraw meanwhile does not ask again)
const namedOpen = new Set(); // poll ids whose list is open
export function namedBallots(meetingId, poll) {
  if (poll.secrecy !== "named" || !poll.result) return null;
  const list = h("div", { class: "named-ballots" });
  const show = (r) => fill(list, r.ballots.length ? h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, bi("Họ tên", "Name")), h("th", {}, bi("Lựa chọn", "Choice")))),
    h("tbody", {}, [...r.ballots].sort((a, b) => (a.voter_name || "").localeCompare(b.voter_name || "", "vi"))
      .map((b) => h("tr", {}, h("td", {}, b.voter_name || "—"), h("td", {}, b.labels.join(", ") || b.text || "—")))))
    : h("p", { class: "muted" }, "Không có phiếu nào. ", h("span", { class: "en" }, "No ballots.")));
  const box = h("details", { class: "named-ballots-box", dataset: { ballotsOf: poll.id }, open: namedOpen.has(poll.id) },
    h("summary", { class: "button" }, bi("Phiếu của từng người", "Each member's ballot")), list);
  if (namedLoaded.has(poll.id)) show(namedLoaded.get(poll.id));
  box.addEventListener("toggle", async () => {
    if (!box.open) { namedOpen.delete(poll.id); return; }
    namedOpen.add(poll.id);
    if (namedLoaded.has(poll.id)) return;
    if (!namedLoading.has(poll.id)) namedLoading.set(poll.id, api("GET", `/api/meetings/${meetingId}/polls/${poll.id}/ballots`));
    try {
      const r = await namedLoading.get(poll.id);
      namedLoaded.set(poll.id, r);
      if (list.isConnected) show(r);
    } catch (err) {
      namedOpen.delete(poll.id); // closed again: a redraw must not ask (and fail) again by itself
      box.open = false;
      showError(err);
    } finally { namedLoading.delete(poll.id); }
  });
  return box;
}

export function meetingTitle(live) {
  const m = live.meeting;
  if (!m) return [];
  const cancelled = m.state === "cancelled"; // said with its reason: its page looked like one that had been held (a walk-through)
  return [m.title, " ", h("span", { class: `badge ${m.state === "in_session" ? "live" : cancelled ? "bad" : ""}`, id: "meeting-state" }, m.state_label),
    cancelled ? h("span", { class: "cancel-reason", id: "cancelled-note" }, "Cuộc họp này đã bị hủy, không họp",
      m.cancel_reason ? `: ${m.cancel_reason.replace(/[.。]+$/, "")}` : "", ". ", // its own full stop is not doubled
      h("span", { class: "en" }, "This meeting was cancelled and will not be held.")) : null];
}

