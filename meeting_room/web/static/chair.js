// The chair's console (10-inch tablet, landscape): meeting state, agenda, votes with a live tally,
// attendance and quorum, the speaker queue and live captions. Every action is one tap (a second
// tap confirms the ones that cannot be undone).
import { act, api, bi, fill, fmtTime, h, header, icon, showError, toast, twoTaps, whoAmI, $ } from "/static/app.js";
import { LiveMeeting, agendaPanel, attendancePanel, captionsPanel, countdown, meetingTitle, namedBallots, resultBlock } from "/static/meeting.js";
import { remotePanel } from "/static/remote.js";
import { repliesPanel } from "/static/reply.js";
import { mountSeats } from "/static/seats.js";
import { watchSystem } from "/static/system.js";

const meetingId = location.pathname.split("/").pop();
const STATE_ACTION = {
  open: "Mở phòng họp", in_session: "Bắt đầu phiên họp", adjourned: "Tạm dừng", closed: "Bế mạc cuộc họp", cancelled: "Hủy cuộc họp",
};
const STATE_ACTION_EN = {
  open: "Open the room", in_session: "Start the session", adjourned: "Adjourn", closed: "Close the meeting", cancelled: "Cancel the meeting",
};
// Vietnamese, then English in the smaller type every page uses
const FINAL = new Set(["closed", "cancelled"]);

// What cannot be undone (ending the meeting, a ballot, ending a vote) takes two taps.
const confirmTap = (button, armedLabel, fn) => twoTaps(button, armedLabel, () => act(button, fn));

let presets = [];
let defaultRule = "majority_present"; // the body's setting, from the meeting
let live;
const receipts = new Map(); // poll id -> the receipt of the chair's own secret ballot, shown until the page closes
// Buttons that take two taps, kept across redraws by what they do: a ballot, a call or an event
// arriving between the taps redraws their panel, and a new button would have forgotten the first tap.
const kept = new Map();
const keep = (key, make) => { if (!kept.has(key)) kept.set(key, make()); return kept.get(key); };

function renderState() {
  const m = live.meeting;
  fill($("#title"), meetingTitle(live));
  // An ended meeting is a record: every control is off at once, and the record is one tap away.
  $("#console").disabled = live.ended;
  $("#ended").hidden = !live.ended;
  if (live.ended) fill($("#ended"), h("span", { class: "grow" }, `Cuộc họp ${m.state === "cancelled" ? "đã hủy" : "đã kết thúc"}: bàn điều hành chỉ còn để xem. `,
    h("span", { class: "en" }, `The meeting ${m.state === "cancelled" ? "was cancelled" : "has ended"}: the console is for reading only.`)),
    h("a", { class: "button primary", id: "to-record", href: `/clerk/${meetingId}` }, icon("document"), " Hồ sơ cuộc họp (biên bản, bản ghi) ", h("span", { class: "en" }, "Meeting record")));
  // a summary in a disabled fieldset still opens: the new vote's button looked live after a cancel (a walk-through)
  const newPoll = $("#new-poll-box");
  if (newPoll) { newPoll.hidden = live.ended; if (live.ended) newPoll.open = false; }
  // a cancelled meeting was never held: no votes, captions, speaking times, seats or hall to show
  const cancelled = m?.state === "cancelled";
  if (cancelled) for (const card of ["#votes", "#captions", "#floor", "#seats-card", "#hall-links"]) $(card).hidden = true; // final: never shown again
  const next = (m?.next_states || []).filter((s) => STATE_ACTION[s]);
  fill($("#state-actions"), next.map((s) => {
    const label = s === "in_session" && m.state === "adjourned" ? "Tiếp tục phiên họp" : STATE_ACTION[s];
    return keep(`state:${s}:${label}`, () => {
      const en = s === "in_session" && m.state === "adjourned" ? "Resume the session" : STATE_ACTION_EN[s];
      const button = h("button", { type: "button", class: s === "in_session" || s === "open" ? "primary" : FINAL.has(s) ? "danger" : "", dataset: { to: s } }, bi(label, en));
      button.addEventListener("click", () => {
        const reason = s === "cancelled" ? cancelReason().value.trim().normalize("NFC") : "";
        const go = () => api("POST", `/api/meetings/${meetingId}/transitions`, reason ? { to: s, reason } : { to: s }).then(() => live.load("meeting"));
        // the second tap says what it ends (a walk-through read "…để xác nhận" and did not know what)
        if (FINAL.has(s)) return confirmTap(button, `Chạm lần nữa để ${label.toLowerCase()} / Tap again: ${en.toLowerCase()}`, go);
        // a session started with too few present (a walk-through's began at 0/6): said, and a second tap starts it all the same
        const q = live.attendance?.summary;
        if (s === "in_session" && q && !q.quorum_reached) {
          return confirmTap(button, `Chưa đủ số lượng (có mặt ${q.present}/${q.expected}, cần ${q.quorum_needed}) — chạm lần nữa để vẫn bắt đầu / Tap again to start anyway`, go);
        }
        act(button, go);
      });
      return button;
    });
  }).flatMap((button) => (button.dataset.to === "cancelled" ? [cancelReason(), button] : [button])));
}

// Why a meeting is cancelled, said on the members' cards and its page (the console had no field for it:
// a walk-through); kept across redraws, as the two taps are.
function cancelReason() {
  return keep("cancel-reason", () => h("input", { id: "cancel-reason", class: "cancel-reason-input", maxlength: 500, autocomplete: "off",
    // optional: the label says so to a screen reader; the placeholder stays short, the field is narrow
    placeholder: "Lý do hủy / Reason", "aria-label": "Lý do hủy cuộc họp (không bắt buộc) / Why the meeting is cancelled (optional)" }));
}

// A microphone or camera of the room that is down, said plainly until it comes back.
function renderDevices() {
  const lost = Object.entries(live.meeting?.devices || {}).filter(([, d]) => d.state === "lost");
  fill($("#devices"), lost.map(([name, d]) => h("p", { class: "device-lost" },
    icon("warning"), ` ${d.kind === "camera" ? "Camera" : "Micrô"} “${name}” mất kết nối từ ${fmtTime(d.since)}; hệ thống đang kết nối lại. `,
    h("span", { class: "en" }, `${d.kind === "camera" ? "Camera" : "Microphone"} “${name}” lost; reconnecting.`))));
}

function renderFloor() {
  const f = live.floor || { speaker: null, queue: [] };
  const give = (id) => (ev) => act(ev.currentTarget, () => api("PUT", `/api/meetings/${meetingId}/floor/speaker`, { member_id: id }).then((r) => { live.floor = r; renderFloor(); }));
  const decline = (id) => (ev) => act(ev.currentTarget, () => api("DELETE", `/api/meetings/${meetingId}/floor/requests/${id}`).then((r) => { live.floor = r; renderFloor(); }));
  const off = !live.inSession; // the floor is given only while the session sits
  fill($("#floor"), h("h2", {}, "Đăng ký phát biểu ", h("span", { class: "en" }, "Speaker queue")),
    f.speaker ? h("div", { class: "row" }, h("span", { class: "grow" }, "Đang phát biểu ", h("span", { class: "en" }, "Speaking"), ": ", h("b", {}, f.speaker.full_name)),
      h("button", { type: "button", id: "end-turn", onclick: (ev) => act(ev.currentTarget, () => api("DELETE", `/api/meetings/${meetingId}/floor/speaker`).then((r) => { live.floor = r; renderFloor(); })) }, "Kết thúc lượt ", h("span", { class: "en" }, "End turn")))
      : h("p", { class: "muted" }, ...bi("Không có ai đang phát biểu.", "No speaker.")),
    // each name on its line, its two buttons under it, each in both languages: no taller than a name
    // beside its buttons (which wrapped), so the attendance stays above a tablet's fold
    f.queue.length ? h("ol", { class: "plain", id: "floor-queue" }, f.queue.map((w, i) => h("li", { class: "queue-entry" },
      h("span", {}, `${i + 1}. ${w.full_name}`),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary two-line", disabled: off, onclick: give(w.member_id), "aria-label": `Mời ${w.full_name} phát biểu` },
          "Mời phát biểu", h("span", { class: "en" }, "Give the floor")),
        h("button", { type: "button", class: "two-line", disabled: off, onclick: decline(w.member_id), "aria-label": `Bỏ lượt của ${w.full_name}` },
          "Bỏ lượt", h("span", { class: "en" }, "Remove"))))))
      : h("p", { class: "muted" }, "Chưa có ai đăng ký. ", h("span", { class: "en" }, "No requests yet.")));
}

function tallyBars(poll) {
  const t = live.tallies.get(poll.id);
  const counts = (t && t.counts) || poll.live_counts;
  const cast = t ? t.ballots_cast : poll.ballots_cast;
  const eligible = (t && t.eligible) || poll.electorate?.eligible || 0;
  return h("div", { class: "tally", id: "tally" },
    h("p", {}, h("b", { id: "ballots-cast" }, `${cast}/${eligible}`), " đã biểu quyết ", h("span", { class: "en" }, "voted")),
    h("div", { class: "meter" }, h("span", { style: `width:${eligible ? (100 * cast) / eligible : 0}%` })),
    counts ? poll.options.map((o) => h("div", { class: "opt" }, h("div", { class: "row" }, h("span", {}, o.label), h("b", { dataset: { option: o.id } }, counts[o.id] || 0)),
      h("div", { class: "meter" }, h("span", { style: `width:${cast ? (100 * (counts[o.id] || 0)) / Math.max(1, eligible) : 0}%; background: var(--red)` }))))
      : h("p", { class: "muted" }, bi("Bỏ phiếu kín: kết quả chỉ có khi kết thúc.", "Secret ballot: the result comes at the close.")));
}

const ownBallotMissing = (pollId) => {
  const now = (live.polls || []).find((x) => x.id === pollId);
  return !!now && now.you.eligible && !now.you.voted;
};

// The chair votes too: one tap on an option arms it, a second tap casts the ballot.
// The row is kept per poll: every ballot cast redraws the votes, and must not disarm the chair's tap.
function chairBallot(p) {
  if (!p.you.eligible) return null;
  if (p.you.voted) return receiptBlock(p.id, h("p", { class: "badge ok" }, bi("Bạn đã biểu quyết", "You have voted")));
  if (p.kind !== "motion" && p.kind !== "single_choice") return h("a", { class: "button", href: `/member/${meetingId}` }, `Biểu quyết trên trang ${live.memberTerm}`);
  return keep(`ballot:${p.id}`, () => h("div", { class: "row chair-ballot", "aria-label": "Phiếu của chủ tọa" }, h("span", {}, "Phiếu của bạn: ", h("span", { class: "en" }, "Your ballot")), p.options.map((o) => h("button", { type: "button", dataset: { vote: o.id },
    onclick: (ev) => confirmTap(ev.currentTarget, `Xác nhận: ${o.label}`, () => api("POST", `/api/meetings/${meetingId}/polls/${p.id}/ballots`, { options: [o.id] }).then((r) => {
      if (r.receipt && p.secrecy === "secret") receipts.set(p.id, r.receipt); // a named vote lists each choice by name: nothing to keep
      toast(r.message, "ok", r.message_en);
      return live.load("polls");
    })) }, o.label))));
}

// The receipt of the chair's own secret ballot, as the member pages show theirs: large, to be noted down.
function receiptBlock(pollId, ...before) {
  const code = receipts.get(pollId);
  return h("div", { class: "chair-voted" }, before, code ? [h("span", { class: "receipt-code-label" }, "Mã biên nhận của bạn (ghi lại để tự kiểm tra phiếu): ", h("span", { class: "en" }, "Your receipt code (note it to check your ballot):")),
    h("code", { class: "receipt-code", id: `receipt-code-${pollId}` }, code)] : null);
}

// A secret ballot box whose key the server lost (a restart): the chair and the secretary each give
// their teller passphrase, on their own tablet, before the vote can be counted.
const passphrases = new Map(); // poll id -> its passphrase field, kept across redraws (ballots keep arriving while a teller types)
function ballotBoxLock(p, post) {
  if (!p.ballot_box?.locked) { passphrases.delete(p.id); return null; }
  if (!passphrases.has(p.id)) passphrases.set(p.id, h("input", { type: "password", id: "teller-passphrase", autocomplete: "off", placeholder: "Mật khẩu khóa kiểm phiếu" }));
  const input = passphrases.get(p.id);
  return h("div", { class: "card warn", id: "ballot-box-locked" },
    h("p", {}, h("b", {}, "Hòm phiếu kín đang khóa"), " (máy chủ đã khởi động lại). Chủ tọa và thư ký mỗi người nhập mật khẩu khóa kiểm phiếu của mình để kiểm phiếu. ",
      h("span", { class: "en" }, "The secret ballot box is locked: the chair and the secretary each give their teller passphrase.")),
    h("ul", { class: "plain" }, p.ballot_box.tellers.map((t) => h("li", {}, `${t.full_name}: ${t.gave_passphrase ? "đã mở khóa / unlocked" : "chưa mở khóa / not yet"}`))),
    h("div", { class: "row" }, input,
      // the field empties as it is sent: the next teller on this tablet must not find it filled
      h("button", { type: "button", class: "primary", id: "unlock-ballot-box",
        onclick: (ev) => { const passphrase = input.value; input.value = ""; post(p, "unlock", { passphrase })(ev); } }, bi("Mở khóa", "Unlock"))));
}

let publishedOpen = null; // the chair's own opening or closing of the published results, kept across redraws
function renderPolls() {
  // opinions asked ahead: in the replies card while the meeting is scheduled, here once it opened
  // (one still open must be closed before the meeting closes: its buttons are here)
  const polls = (live.polls || []).filter((p) => !p.before_meeting || live.meeting?.state !== "scheduled");
  const open = polls.filter((p) => p.state === "open");
  const created = polls.filter((p) => p.state === "created");
  const closed = polls.filter((p) => p.state === "closed");
  const published = polls.filter((p) => p.state === "published");
  const post = (p, verb, body = {}) => (ev) => act(ev.currentTarget, () => api("POST", `/api/meetings/${meetingId}/polls/${p.id}/${verb}`, body).then(() => live.load("polls")));
  // One vote at a time, and only in session: finish (publish) the last one before the next opens.
  const busy = [...open, ...closed].some((p) => !p.before_meeting); // opinions asked ahead do not hold the next vote
  $("#quick-poll").hidden = busy || !live.inSession || !$("#quick-motion");
  const createOpen = $("#create-open");
  if (createOpen) {
    createOpen.disabled = busy || !live.inSession;
    fill($("#create-open-note"), busy ? bi("Đang có biểu quyết chưa công bố: kết thúc và công bố trước khi mở biểu quyết mới.",
      "A vote is not yet published: close and publish it before opening another.")
      : !live.inSession ? bi("Biểu quyết chỉ mở được khi phiên họp đang diễn ra; bây giờ chỉ tạo trước được.",
        "A vote opens only while the session sits; for now it can only be prepared.") : "");
  }
  fill($("#poll-list"),
    open.map((p) => h("section", { class: "poll", dataset: { poll: p.id } },
      h("div", { class: "row" }, h("h3", { class: "grow" }, p.title), h("span", { class: "badge live" }, p.state_label), countdown(p)),
      // the control of the moment first, then the chair's own ballot (at the foot of the tally it sat below a
      // 1280x800 tablet's fold: a walk-through), then the rule and the tally
      // kept across redraws: every ballot redraws the tally between the two taps
      keep(`close:${p.id}`, () => h("button", { type: "button", class: "primary big", id: "close-poll",
        // the chair's own ballot not cast (or only armed): the second tap says so (walk-through: closed without it)
        onclick: (ev) => confirmTap(ev.currentTarget, ownBallotMissing(p.id) ? "Bạn chưa bỏ phiếu của mình — chạm lần nữa để vẫn kết thúc" : "Chạm lần nữa để kết thúc biểu quyết",
          () => api("POST", `/api/meetings/${meetingId}/polls/${p.id}/close`, {}).then(() => live.load("polls"))) },
      bi("Kết thúc biểu quyết", "End the vote"))),
      chairBallot(p),
      h("p", { class: "muted" }, p.rule.description),
      tallyBars(p),
      ballotBoxLock(p, post))),
    closed.map((p) => h("section", { class: "poll", dataset: { poll: p.id } }, h("h3", {}, p.title),
      h("button", { type: "button", class: "primary big", id: "publish-poll", onclick: post(p, "publish") }, bi("Công bố kết quả", "Publish the result")), resultBlock(p.result), namedBallots(meetingId, p))),
    created.map((p) => h("section", { class: "poll row", dataset: { poll: p.id } }, h("span", { class: "grow" }, p.title,
      p.secrecy === "secret" ? [" ", h("span", { class: "badge" }, "Bỏ phiếu kín ", h("span", { class: "en" }, "Secret"))] : null),
      h("button", { type: "button", class: "primary", disabled: busy || !live.inSession, onclick: post(p, "open", {}) }, bi("Mở biểu quyết", "Open the vote")),
      cancelButton(p),
      // a greyed button says why, and what to do (a vote under way says so above the list)
      !live.inSession ? h("p", { class: "muted full" }, "Bắt đầu phiên họp (“Bắt đầu phiên họp” ở trên) rồi mở biểu quyết. ",
        h("span", { class: "en" }, "Start the session first, then open the vote.")) : null)),
    published.length ? h("details", { id: "published-polls", open: publishedOpen ?? (!open.length && !closed.length) },
      h("summary", { onclick: (ev) => { publishedOpen = !ev.currentTarget.parentElement.open; } }, `Đã công bố (${published.length})`),
      published.map((p) => h("section", { dataset: { poll: p.id } }, h("h3", {}, p.title), resultBlock(p.result), namedBallots(meetingId, p)))) : null);
}

// Cancelling a prepared vote cannot be undone: two taps, like the other destructive actions.
function cancelButton(p) {
  return keep(`cancel:${p.id}`, () => {
    const button = h("button", { type: "button", class: "danger", dataset: { cancel: p.id }, "aria-label": `Hủy biểu quyết “${p.title}”` }, bi("Hủy", "Cancel"));
    button.addEventListener("click", () => confirmTap(button, "Chạm lần nữa để hủy",
      () => api("POST", `/api/meetings/${meetingId}/polls/${p.id}/cancel`, {}).then(() => { toast("Đã hủy biểu quyết.", "ok", "Poll cancelled."); return live.load("polls"); })));
    return button;
  });
}

function newPollForm() {
  const kind = h("select", { name: "kind", id: "poll-kind" },
    h("option", { value: "motion" }, "Biểu quyết thông qua (Tán thành / Không tán thành / Không biểu quyết)"),
    h("option", { value: "single_choice" }, "Chọn một phương án"),
    h("option", { value: "multiple_choice" }, "Chọn nhiều phương án"),
    h("option", { value: "opinion" }, "Lấy ý kiến"));
  const options = h("textarea", { name: "options", id: "poll-options", rows: 3, placeholder: "Mỗi dòng một phương án" });
  const optionsRow = h("div", { hidden: true }, h("label", { for: "poll-options" }, "Các phương án ", h("span", { class: "en" }, "one per line")), options);
  const rule = h("select", { name: "rule", id: "poll-rule" }, presets.map((p) => h("option", { value: p.preset, selected: p.preset === defaultRule }, p.label)));
  // an opinion poll collects answers: no rule passes or fails it
  const ruleRow = h("div", {}, h("label", { for: "poll-rule" }, "Quy tắc thông qua ", h("span", { class: "en" }, "Rule")), rule);
  kind.addEventListener("change", () => { optionsRow.hidden = kind.value === "motion"; ruleRow.hidden = kind.value === "opinion"; });
  const secret = h("input", { type: "checkbox", name: "secret", id: "poll-secret", style: "width:28px" });
  const tellerNote = h("p", { class: "card warn", id: "teller-key-missing", hidden: true },
    "Bỏ phiếu kín cần khóa kiểm phiếu của chủ tọa và của thư ký; bạn chưa có khóa. Hãy tạo ở trang ",
    h("a", { href: "/meetings#teller-key", target: "_blank" }, "Cuộc họp → Khóa kiểm phiếu"), " trước khi mở biểu quyết. ",
    h("span", { class: "en" }, "A secret vote needs the chair's and the secretary's teller keys, and you have none yet: make yours on the Meetings page first."));
  const form = h("form", { id: "new-poll" },
    h("label", { for: "poll-title" }, "Nội dung biểu quyết ", h("span", { class: "en" }, "Title")),
    h("input", { id: "poll-title", name: "title", required: true, maxlength: 500 }),
    h("label", { for: "poll-kind" }, "Hình thức ", h("span", { class: "en" }, "Kind")), kind, optionsRow, ruleRow,
    h("div", { class: "row" },
      h("label", { class: "row" }, secret, "Bỏ phiếu kín ", h("span", { class: "en" }, "Secret ballot")),
      h("label", { class: "row" }, "Thời gian (phút) ", h("span", { class: "en" }, "Minutes"), h("input", { type: "number", name: "minutes", min: 0, max: 120, style: "width:6rem", inputmode: "numeric" }))),
    tellerNote,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", id: "create-open" }, bi("Tạo và mở biểu quyết", "Create and open")), h("button", { type: "submit", value: "create", id: "create-only" }, bi("Chỉ tạo", "Create only"))),
    h("p", { class: "muted", id: "create-open-note", role: "status" }));
  // a secret vote opens only with the chair's and the secretary's teller keys: said when it is ticked, not
  // first at the opening, mid-meeting (a walk-through's chair had to leave the console to make one)
  const checkTellerKey = async () => {
    tellerNote.hidden = true;
    if (!secret.checked) return;
    try {
      if ((await api("GET", "/api/tellers/me")).has_key) return;
    } catch { return; } // the opening says it anyway
    tellerNote.hidden = !secret.checked;
  };
  secret.addEventListener("change", checkTellerKey);
  // the key is made on another tab (the link opens one): coming back, the warning goes once the key exists
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !tellerNote.hidden) checkTellerKey(); });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form), button = ev.submitter;
    const body = { title: f.get("title"), kind: f.get("kind"), rule: { preset: f.get("rule") }, secrecy: f.get("secret") ? "secret" : "named", agenda_item_id: live.meeting?.current_item_id || null };
    if (body.kind !== "motion") body.options = String(f.get("options")).split("\n").map((s) => s.trim()).filter(Boolean);
    const minutes = Number(f.get("minutes") || 0);
    act(button, async () => {
      const poll = await api("POST", `/api/meetings/${meetingId}/polls`, body);
      // The poll exists from here on: whatever the opening says, the form is done (a second tap
      // would make a duplicate), and the list shows the poll with its own "Mở biểu quyết".
      form.reset();
      rule.value = defaultRule;
      optionsRow.hidden = true;
      ruleRow.hidden = false;
      try {
        if (button?.value !== "create") await api("POST", `/api/meetings/${meetingId}/polls/${poll.id}/open`, minutes ? { duration_s: minutes * 60 } : {});
        toast(button?.value === "create" ? "Đã tạo biểu quyết." : "Đã mở biểu quyết.", "ok", button?.value === "create" ? "Poll created." : "Poll opened.");
      } catch (err) {
        const said = (text) => String(text || "").replace(/[\s.]*$/, ".");  // one full stop, whatever the error ends with
        toast(`Đã tạo biểu quyết “${poll.title}” nhưng chưa mở được: ${said(err.message)} Mở nó trong danh sách khi có thể.`, "error",
          `The vote was created but not opened: ${said(err.messageEn)} Open it from the list when you can.`);
      } finally { await live.load("polls"); }
    });
  });
  return h("details", { id: "new-poll-box" }, h("summary", { class: "button" }, "+ Tạo biểu quyết mới", " ", h("span", { class: "en" }, "New vote")), form);
}

// No keyboard needed for the common case: a motion to adopt the item under discussion, under a
// rule picked by tap. Redrawn only when the item changes, so a half-made choice is never lost.
let quickRule = null;
let quickFor;
// The opening and closing of a sitting are ceremonies, not motions: no one-tap vote on them.
const CEREMONY = /^(khai mạc|bế mạc)/i;
// "Thông qua: …" once: an item that already reads "Thông qua …" or "Biểu quyết …" is its own motion
// (walk-through: "Thông qua: Biểu quyết thông qua nghị quyết").
const motionTitle = (title) => (/^(thông qua|biểu quyết)(\s|$)/iu.test(title.normalize("NFC")) ? title : `Thông qua: ${title}`);
function renderQuickMotion() {
  const all = (live.agenda || []).find((i) => i.id === live.meeting?.current_item_id);
  const item = all && !CEREMONY.test(all.title.normalize("NFC").trim()) ? all : null;
  if (item && item.id === quickFor && item.title === $("#quick-motion")?.dataset.title) return renderPolls();
  quickFor = item?.id;
  if (!item) { fill($("#quick-poll")); return renderPolls(); }
  quickRule = quickRule || defaultRule;
  const rule = h("select", { "aria-label": "Quy tắc cho biểu quyết nhanh", id: "quick-rule", onchange: (ev) => { quickRule = ev.currentTarget.value; } },
    presets.map((p) => h("option", { value: p.preset, selected: p.preset === quickRule }, p.label)));
  const start = h("button", { type: "button", class: "primary big", id: "quick-motion", dataset: { title: item.title }, onclick: (ev) => act(ev.currentTarget, async () => {
    $("#quick-poll").hidden = true; // no second tap while this one opens
    try {
      const poll = await api("POST", `/api/meetings/${meetingId}/polls`, { title: motionTitle(item.title), kind: "motion", rule: { preset: quickRule }, agenda_item_id: item.id });
      await api("POST", `/api/meetings/${meetingId}/polls/${poll.id}/open`, {});
      toast("Đã mở biểu quyết.", "ok", "Poll opened.");
    } finally { await live.load("polls"); }
  }) }, `Biểu quyết thông qua mục “${item.title}”`);
  fill($("#quick-poll"), rule, start);
  renderPolls();
}

function render(what) {
  if (what === "meeting") { renderState(); renderDevices(); agendaPanel(live, $("#agenda"), { onTake }); renderQuickMotion(); renderFloor(); attendancePanel(live, $("#attendance")); }
  if (what === "agenda") { agendaPanel(live, $("#agenda"), { onTake }); renderQuickMotion(); }
  if (what === "attendance") attendancePanel(live, $("#attendance"));
  if (what === "floor") renderFloor();
  if (what === "polls" || what === "tally") renderPolls();
  if (what === "meeting" || what === "polls") repliesPanel(live, $("#replies"));
  if (what === "captions") captionsPanel(live, $("#captions"));
  if (["calls", "invitations", "participants", "meeting"].includes(what)) remotePanel(live, $("#remote"), confirmTap);
  if (what === "participants") mountSeats($("#seats"), meetingId).catch(showError); // a guest who arrives can be seated
}

function onTake(item, button) {
  act(button, () => api("POST", `/api/meetings/${meetingId}/agenda/${item.id}/take`).then(() => live.load("meeting")));
}

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  // The console is for those who run the meeting: anyone else is sent to their own page of it.
  let meeting;
  try { meeting = await api("GET", `/api/meetings/${meetingId}`); } catch (err) { header(me, ["Bàn điều hành của chủ tọa", "Chair's console"], "meetings"); return showError(err); }
  if (!meeting.can.run_meeting) { location.replace(`/member/${meetingId}`); return; }
  defaultRule = meeting.default_rule || defaultRule;
  header(me, ["Bàn điều hành của chủ tọa", "Chair's console"], "meetings");
  watchSystem($("#system"));
  try { presets = await api("GET", "/api/voting/presets"); } catch (err) { showError(err); }
  fill($("#votes"), h("h2", {}, "Biểu quyết ", h("span", { class: "en" }, "Votes")), h("div", { id: "poll-list" }),
    h("div", { id: "quick-poll", class: "row" }), newPollForm());
  live = new LiveMeeting(meetingId, me, render, ["calls", "invitations"]);
  window.live = live; // a handle for diagnostics in the browser console
  await live.start();
  render("captions");
  render("polls");
})();
