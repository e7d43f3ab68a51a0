// The member's page (tablet in the room, or a browser at a distance): agenda and documents, the
// open vote, opinions, asking to speak, live captions and published results; the remote call.
import { act, api, fill, h, header, icon, toast, whoAmI, $ } from "/static/app.js";
import { RemoteCall } from "/static/call.js";
import { LiveMeeting, agendaPanel, attendancePanel, captionsPanel, countdown, floorList, meetingTitle, namedBallots, resultBlock } from "/static/meeting.js";
import { ReplyCard, opinionsPanel } from "/static/reply.js";

const meetingId = location.pathname.split("/").pop();
// poll id -> the receipt of a secret vote. It outlives a reload of this tab (sessionStorage: this tab
// only, under this member, emptied at log-out) so that a member whose page reloaded can still note it
// down; the choice itself is never stored (a receipt alone tells nobody how the ballot went).
let receipts = new Map();
const receiptsKey = (me) => `meeting-room.receipts.${me.id}.${meetingId}`;
function loadReceipts(me) {
  try { receipts = new Map(Object.entries(JSON.parse(sessionStorage.getItem(receiptsKey(me)) || "{}"))); } catch { receipts = new Map(); }
}
function keepReceipt(me, pollId, code) {
  receipts.set(pollId, code);
  try { sessionStorage.setItem(receiptsKey(me), JSON.stringify(Object.fromEntries(receipts))); } catch { /* storage off: the page keeps it */ }
}
const choices = new Map(); // poll id -> the labels this page sent, shown until the result is published
const seenOpen = new Set(); // open polls already shown: a new one scrolls into view
// poll id -> its ballot form, built once: others' votes redraw the page, and a rebuilt form would lose
// the choice, the text and the cursor (and break a Vietnamese input method's composition mid-word)
const forms = new Map();
const sentence = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text); // "quá 1/2 …" starts a sentence here
const checks = new Map(); // poll id -> the receipt-check panel, kept across redraws so typing and its answer survive
let live;
let replyCard;

// An opinion poll collects answers: it is not "voted", no rule passes it (walk-through: it read as a vote).
const asksOpinion = (p) => p.kind === "opinion";
const openLabel = (p) => (asksOpinion(p) ? "Đang lấy ý kiến" : p.state_label);

function ballotForm(p) {
  if (p.you.needs_own_login) return ownLogin(p);
  if (!forms.has(p.id)) forms.set(p.id, newBallotForm(p));
  return forms.get(p.id);
}

function newBallotForm(p) {
  const multi = p.kind === "multiple_choice" || p.kind === "election" || (p.max_choices || 1) > 1;
  const name = `ballot-${p.id}`;
  const form = h("form", { class: "ballot", dataset: { poll: p.id } },
    h("fieldset", { class: "choices" }, h("legend", { class: "sr-only" }, p.title),
      p.options.map((o) => h("label", { class: "choice" }, h("input", { type: multi ? "checkbox" : "radio", name, value: o.id }), o.label))),
    asksOpinion(p) ? [h("label", { for: `${name}-text` }, "Ý kiến của bạn ", h("span", { class: "en" }, "Your opinion")), h("textarea", { id: `${name}-text`, name: "text", maxlength: 20000 })] : null,
    h("button", { type: "submit", class: "primary big" }, p.before_meeting || asksOpinion(p) ? "Gửi ý kiến" : "Gửi phiếu"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { options: f.getAll(name) };
    if (asksOpinion(p) && String(f.get("text") || "").trim()) body.text = String(f.get("text"));
    if (!body.options.length && !body.text) {
      if (!p.options.length) return toast("Hãy viết ý kiến của bạn trước khi gửi.", "error", "Write your opinion first.");
      return toast(asksOpinion(p) ? "Hãy chọn một phương án hoặc viết ý kiến trước khi gửi." : "Hãy chọn một phương án trước khi gửi.",
        "error", asksOpinion(p) ? "Choose an option or write your opinion first." : "Choose an option first.");
    }
    act(ev.submitter, async () => {
      const r = await api("POST", `/api/meetings/${meetingId}/polls/${p.id}/ballots`, body);
      if (r.receipt) keepReceipt(live.me, p.id, r.receipt);
      choices.set(p.id, p.options.filter((o) => body.options.includes(o.id)).map((o) => o.label));
      if (p.before_meeting) toast("Đã gửi ý kiến.", "ok", "Opinion sent."); // named, changeable: no receipt to keep
      else toast(r.message, "ok", r.message_en);
      await live.load("polls");
    });
  });
  return form;
}

// A session opened from an invitation link follows the meeting and speaks, but a ballot is the
// member's own act: the link passed through the hands of whoever made and sent it (the server refuses).
// The member logs in here, on this page: leaving it would hang up their call (walk-through: marked as
// left, the quorum lost). The page's socket and call stay on the link's session; ballots go on theirs.
function ownLogin(p) {
  const key = `login:${p.id}`; // built once: the page redraws on every ballot, a new form would lose the password typed
  if (forms.has(key)) return forms.get(key);
  const opinion = asksOpinion(p);
  const password = h("input", { type: "password", id: `own-password-${p.id}`, autocomplete: "current-password", required: true });
  const send = h("button", { type: "submit", class: "primary big" }, opinion ? "Đăng nhập để góp ý" : "Đăng nhập để biểu quyết");
  const form = h("form", { class: "own-login", id: `own-login-${p.id}` },
    h("p", {}, opinion ? "Để góp ý, hãy đăng nhập bằng tài khoản của chính bạn: liên kết mời chỉ để theo dõi và phát biểu."
      : "Để biểu quyết, hãy đăng nhập bằng tài khoản của chính bạn: liên kết mời chỉ để theo dõi và phát biểu.",
    h("span", { class: "en" }, opinion ? " To give your opinion, log in with your own account: an invitation link is for following and speaking."
      : " To vote, log in with your own account: an invitation link is for following and speaking.")),
    h("label", { for: password.id }, `Mật khẩu của tài khoản ${live.me.username} `, h("span", { class: "en" }, "Your password")),
    password, h("p", {}, send),
    h("p", { class: "muted" }, "Đăng nhập ngay tại đây, không rời cuộc họp. Quên mật khẩu? Hãy nhờ quản trị viên đặt lại. ",
      h("span", { class: "en" }, "You log in here without leaving the meeting. Forgot your password? Ask the administrator to reset it.")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(send, async () => {
      const r = await api("POST", "/api/auth/login", { username: live.me.username, password: password.value });
      if (r.must_change_password) { // a temporary password: the login page asks for a new one, then brings them back
        location.href = `/?next=${encodeURIComponent(location.pathname)}`;
        return;
      }
      live.me = await whoAmI();
      for (const k of [...forms.keys()]) if (k.startsWith("login:")) forms.delete(k);
      toast("Đã đăng nhập bằng tài khoản của bạn: có thể biểu quyết.", "ok", "Logged in with your own account: you can vote.");
      await live.load("polls");
    });
  });
  forms.set(key, form);
  return form;
}

// A voter checks a published vote with their receipt: anyone's receipt says "counted as cast"; their
// own session also hears what the ballot says. The receipt is kept in this page's memory only.
function receiptCheck(p) {
  if (!checks.has(p.id)) checks.set(p.id, receiptPanel(p));
  return checks.get(p.id);
}

function receiptPanel(p) {
  const id = `receipt-${p.id}`;
  const input = h("input", { id, autocomplete: "off", spellcheck: false, maxlength: 24, placeholder: "K7QX-3MPA-9TZC-R2DE", value: receipts.get(p.id) || "" });
  const out = h("p", { role: "status", class: "receipt-result" });
  const form = h("form", { class: "receipt-check" },
    h("label", { for: id }, "Mã biên nhận ", h("span", { class: "en" }, "Receipt code")),
    h("div", { class: "row" }, input, h("button", { type: "submit" }, "Kiểm tra")), out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(ev.submitter, async () => {
      const r = await api("POST", `/api/meetings/${meetingId}/polls/${p.id}/receipt`, { receipt: input.value });
      fill(out, r.message, r.own && r.labels.length ? `: ${r.labels.join(", ")}` : "", r.own && r.text ? ` — “${r.text}”` : "", ". ", h("span", { class: "en" }, r.message_en));
    });
  });
  return h("details", { class: "receipt" }, h("summary", {}, "Kiểm tra phiếu của bạn bằng mã biên nhận"), form);
}

// What the voter sent and, for a secret vote, the receipt to keep: shown while the vote is open and
// until its result is published (a reload keeps "you voted" and the receipt, not the choice).
function myBallot(p) {
  const chose = choices.get(p.id), code = p.secrecy === "secret" ? receipts.get(p.id) : null; // a named vote is published by name
  return h("div", { class: "result passed", role: "status", id: "voted" }, "Bạn đã biểu quyết. Cảm ơn!",
    // a secret choice stays folded (a neighbour in the hall sees the screen); a tap shows it to the voter
    chose?.length && p.secrecy === "secret" ? h("details", { class: "my-choice" }, h("summary", {}, "Xem lựa chọn của tôi ", h("span", { class: "en" }, "Show my choice")),
      h("p", {}, `Bạn đã chọn: ${chose.join(", ")}.`))
      : chose?.length ? h("div", { class: "my-choice" }, `Bạn đã chọn: ${chose.join(", ")}.`) : null,
    code ? [h("div", { class: "receipt-code-label" }, "Mã biên nhận (ghi lại để tự kiểm tra phiếu của mình):"), h("code", { class: "receipt-code" }, code)] : null);
}

// The deadline passed but the vote is not closed yet (the server closes it on its timer, or later
// when a ballot box locked by a restart is opened): no ballot form that the server would refuse.
const timeUp = (p) => !!p.closes_at && Date.parse(p.closes_at) <= Date.now();
let deadlineTimer;

function renderPolls() {
  opinionsPanel(live, $("#opinions"), ballotForm);
  const polls = (live.polls || []).filter((p) => !p.before_meeting); // opinions asked ahead have their own card
  const open = polls.filter((p) => p.state === "open");
  clearTimeout(deadlineTimer); // draw again when the next deadline passes
  const next = Math.min(...open.filter((p) => p.closes_at && !timeUp(p)).map((p) => Date.parse(p.closes_at)));
  if (Number.isFinite(next)) deadlineTimer = setTimeout(() => render("polls"), next - Date.now() + 250);
  const closed = polls.filter((p) => p.state === "closed");
  const done = polls.filter((p) => p.state === "published").reverse();
  const eligible = (p) => p.electorate?.eligible ?? "?";
  fill($("#votes"), h("h2", {}, "Biểu quyết ", h("span", { class: "en" }, "Votes")),
    open.map((p) => h("section", { class: "poll", dataset: { poll: p.id, state: "open" } },
      h("div", { class: "row" }, h("h3", { class: "grow" }, p.title), h("span", { class: "badge live" }, openLabel(p)), countdown(p)),
      p.description ? h("p", {}, p.description) : null,
      h("p", { class: "muted" }, asksOpinion(p)
        ? `Lấy ý kiến${p.secrecy === "secret" ? " kín (không ghi tên)" : ""}: không có quy tắc thông qua; kết quả là số ý kiến theo từng phương án.`
        : `${p.secrecy === "secret" ? "Bỏ phiếu kín. " : ""}${sentence(p.rule.description)}`),
      !p.you.eligible ? h("p", { class: "badge bad" }, "Bạn không thuộc danh sách biểu quyết của phiên này.")
        : p.you.voted ? myBallot(p)
        : timeUp(p) ? h("p", { class: "vote-state", id: "time-up" }, "Đã hết thời gian biểu quyết; phiếu không còn được nhận.",
          h("span", { class: "en" }, " Voting time is over; no more ballots are taken.")) : ballotForm(p),
      h("p", { class: "muted" }, `${p.ballots_cast}/${eligible(p)} ${asksOpinion(p) ? "đã góp ý" : "đã biểu quyết"}.`))),
    closed.map((p) => h("section", { class: "poll", dataset: { poll: p.id, state: "closed" } },
      h("div", { class: "row" }, h("h3", { class: "grow" }, p.title), h("span", { class: "badge" }, p.state_label)),
      h("p", { class: "vote-state", id: "awaiting-result" }, "Đã kết thúc biểu quyết; chờ chủ tọa công bố kết quả.",
        h("span", { class: "en" }, " Voting has ended; the result is not published yet.")),
      // eligible, but nothing was sent before the close (a choice picked and not sent is not a ballot)
      p.you.voted ? myBallot(p) : p.you.eligible ? h("p", { class: "muted", id: "not-sent" }, asksOpinion(p)
        ? ["Bạn chưa gửi ý kiến trước khi kết thúc lấy ý kiến; ý kiến không được ghi nhận.", h("span", { class: "en" }, " You sent no opinion before it closed; none was recorded.")]
        : ["Bạn chưa gửi phiếu trước khi kết thúc biểu quyết; phiếu không được ghi nhận.", h("span", { class: "en" }, " You sent no ballot before the vote closed; none was recorded.")]) : null,
      h("p", { class: "muted" }, `${p.ballots_cast}/${eligible(p)} đã biểu quyết.`))),
    !open.length && !closed.length ? h("p", { class: "muted", id: "no-open-poll" }, "Hiện không có biểu quyết nào đang mở. ", h("span", { class: "en" }, "No vote is open now.")) : null,
    done.length ? h("div", {}, h("h3", {}, "Kết quả đã công bố"), done.map((p) => h("section", { dataset: { poll: p.id, state: "published" } }, h("h4", {}, p.title), resultBlock(p.result),
      namedBallots(meetingId, p),
      p.you.voted && p.secrecy === "secret" ? receiptCheck(p) : null))) : null); // a named ballot has no receipt: its list names it
  renderBanner(open);
}

// An open vote at the top of the page, whatever the screen: its title, the countdown and a way to the
// ballot. A vote that opens while the page is read scrolls its ballot into view.
function renderBanner(open) {
  const banner = $("#vote-banner");
  const p = open[0];
  banner.hidden = !p;
  if (!p) return fill(banner);
  const go = () => document.querySelector(`#votes [data-poll="${p.id}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
  if (timeUp(p)) return fill(banner, h("span", { class: "grow" }, "Hết thời gian biểu quyết: ", p.title, ". Chờ kiểm phiếu."));
  const opinion = asksOpinion(p);
  fill(banner, h("span", { class: "grow" }, opinion ? "Đang lấy ý kiến: " : "Đang biểu quyết: ", p.title), countdown(p, { id: "banner-countdown" }),
    p.you.eligible && !p.you.voted ? h("button", { type: "button", class: "primary", id: "to-ballot", onclick: go }, opinion ? "Đến phiếu lấy ý kiến" : "Đến phiếu biểu quyết")
      : h("span", {}, p.you.voted ? (opinion ? "Bạn đã góp ý." : "Bạn đã biểu quyết.") : ""));
  if (!seenOpen.has(p.id)) {
    seenOpen.add(p.id);
    if (live.stream?.ready && p.you.eligible && !p.you.voted) go();
  }
}

function renderFloor() {
  const f = live.floor || { speaker: null, queue: [] };
  const mine = f.queue.some((w) => w.member_id === live.me.id);
  const speaking = f.speaker?.member_id === live.me.id;
  const position = f.queue.findIndex((w) => w.member_id === live.me.id) + 1;
  const call = (method, path) => (ev) => act(ev.currentTarget, () => api(method, `/api/meetings/${meetingId}/floor${path}`).then((r) => { live.floor = r; renderFloor(); }));
  if (live.ended) return fill($("#floor"), h("h2", {}, "Phát biểu ", h("span", { class: "en" }, "Speaking")),
    h("p", { class: "muted", id: "floor-ended" }, live.meeting?.state === "cancelled" ? "Cuộc họp đã bị hủy. " : "Cuộc họp đã kết thúc. ",
      h("span", { class: "en" }, live.meeting?.state === "cancelled" ? "The meeting was cancelled." : "The meeting has ended.")));
  fill($("#floor"), h("h2", {}, "Phát biểu ", h("span", { class: "en" }, "Speaking")),
    speaking ? h("div", {}, h("p", { class: "result passed" }, "Chủ tọa đã mời bạn phát biểu. ", h("span", { class: "en" }, "The chair has given you the floor.")), h("button", { type: "button", class: "big", onclick: call("DELETE", "/speaker") }, "Kết thúc phát biểu ", h("span", { class: "en" }, "End my turn")))
      : mine ? h("div", {}, h("p", {}, `Bạn đang chờ phát biểu (thứ tự ${position}). `, h("span", { class: "en" }, `You are waiting to speak (position ${position} in the queue).`)), h("button", { type: "button", class: "big", id: "withdraw", onclick: call("DELETE", `/requests/${live.me.id}`) }, "Rút đăng ký ", h("span", { class: "en" }, "Withdraw")))
        : h("button", { type: "button", class: "primary big", id: "ask-floor", disabled: live.meeting?.state !== "in_session", onclick: call("POST", "/requests") }, icon("hand"), " Xin phát biểu ", h("span", { class: "en" }, "Ask to speak")),
    floorList(live));
}

function render(what) {
  if (what === "meeting") {
    fill($("#title"), meetingTitle(live));
    const h1 = $("header.bar h1");
    if (h1) fill(h1, `Trang ${live.memberTerm}`, " ", h("span", { class: "en" }, `${live.memberTermEn[0].toUpperCase()}${live.memberTermEn.slice(1)}'s page`));
    $("#call").hidden = live.ended; // nothing to join once the meeting has ended
    // a meeting never held has no votes or captions to wait for (the cards said "none yet": a walk-through)
    for (const card of ["#votes", "#captions"]) $(card).hidden = live.meeting?.state === "cancelled";
    window.call?.setOpened(["open", "in_session", "adjourned"].includes(live.meeting?.state));
    if (live.ended && window.call?.wanted) window.call.leave();
    agendaPanel(live, $("#agenda"));
    renderFloor();
    attendancePanel(live, $("#attendance"));
    replyCard.show();
  }
  if (what === "agenda") { agendaPanel(live, $("#agenda")); opinionsPanel(live, $("#opinions"), ballotForm); }
  if (what === "attendance") attendancePanel(live, $("#attendance"));
  if (what === "attendance" || what === "meeting") {
    const mine = live.attendance?.records?.find((r) => r.member_id === live.me.id);
    window.call?.setInRoom(mine?.status === "present_in_room");
  }
  if (what === "floor") renderFloor();
  if (what === "polls") renderPolls();
  if (what === "captions") captionsPanel(live, $("#captions"));
}

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  header(me, ["Trang họp", "Meeting page"], "meetings");
  loadReceipts(me);
  window.call = new RemoteCall(meetingId, $("#call")); // joining from elsewhere (the room's own tablets need not)
  live = new LiveMeeting(meetingId, me, render);
  replyCard = new ReplyCard(live, $("#reply"));
  window.live = live; // a handle for diagnostics in the browser console
  await live.start();
  render("captions");
})();
