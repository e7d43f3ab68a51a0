// The home page after login, "Cuộc họp của tôi": today's, upcoming and past meetings, each with the
// one way in that matters for this person (console, member page, preparation, record), a mark on
// those changed since they last opened them; staff filter by body and dates and create meetings.
import { act, api, apiPage, bi, dayOf, fill, fmtDate, fmtTime, h, header, icon, readBackDates, showError, toast, whoAmI, $ } from "/static/app.js";

const RUNNING = new Set(["scheduled", "open", "in_session", "adjourned"]);
const PAGE = 50;
const ROLE_VI = { chair: ["Chủ tọa", "Chair"], secretary: ["Thư ký", "Secretary"], guest: ["Khách mời", "Guest"] };

// The one button for this person: what the API says they may do and their role decide it.
function action(m) {
  const go = (vi, en, href, primary = true) => h("a", { class: `button${primary ? " primary" : ""}`, href }, bi(vi, en));
  if (m.state === "cancelled") return null;
  if (!RUNNING.has(m.state)) return go("Hồ sơ", "Record", `/clerk/${m.id}`, false);
  if (m.my_role === "chair") return go("Bàn điều hành", "Console", `/chair/${m.id}`);
  const before = m.state === "scheduled" || m.state === "open";
  // The secretary prepares and also runs the meeting (opens it, the roll call, votes): both ways in,
  // the one of the moment first.
  if (m.can.prepare && before && m.can.run_meeting) {
    const opened = m.state === "open";
    const prepare = go("Chuẩn bị", "Prepare", `/prepare/${m.id}`, !opened), console = go("Bàn điều hành", "Console", `/chair/${m.id}`, opened);
    return opened ? [console, prepare] : [prepare, console];
  }
  if (m.can.prepare && before) return go("Chuẩn bị", "Prepare", `/prepare/${m.id}`);
  if (m.can.run_meeting) return go("Bàn điều hành", "Console", `/chair/${m.id}`);
  if (m.my_role) return go("Vào họp", "Join", `/member/${m.id}`);
  return null;
}

function role(m) {
  if (!m.my_role) return null;
  const [vi, en] = ROLE_VI[m.my_role] || [m.member_term[0].toUpperCase() + m.member_term.slice(1), "Member"];
  return h("span", { class: "meta" }, icon("person"), bi(vi, en));
}

function card(m) {
  const when = `${fmtTime(m.starts_at)}${m.ends_at ? `–${fmtTime(m.ends_at)}` : ""}, ${fmtDate(m.starts_at)}`;
  return h("li", { class: "meeting-card", dataset: { meeting: m.id } },
    h("div", { class: "grow" },
      h("div", { class: "meeting-title" }, h("b", {}, m.title), " ",
        // a cancelled one stands out from the scheduled ones around it, with its reason (a walk-through)
        h("span", { class: `badge ${m.state === "in_session" ? "live" : m.state === "cancelled" ? "bad" : ""}` }, m.state_label),
        m.changed_since_seen ? [" ", h("span", { class: "badge changed", title: "Đã thay đổi từ lần bạn mở gần nhất / Changed since you last opened it" }, bi("Mới thay đổi", "Changed"))] : null,
        // the staff tell at a glance which meetings still wait for their invitation to go out
        m.can.prepare && m.state === "scheduled" && !m.published_at ? [" ", h("span", { class: "badge unpublished" }, bi("Chưa gửi giấy mời", "Not sent"))] : null),
      h("div", { class: "muted meeting-meta" },
        h("span", { class: "meta" }, icon("clock"), when),
        m.room_name ? h("span", { class: "meta" }, icon("place"), m.room_name) : null,
        role(m)),
      m.state === "cancelled" && m.cancel_reason ? h("p", { class: "cancel-reason" }, "Lý do hủy ", h("span", { class: "en" }, "Why cancelled"), ": ", m.cancel_reason) : null),
    action(m));
}

// Under way (whatever its date: a meeting opened early is not "upcoming"), then today, upcoming
// (soonest first), past (latest first), by the day in Vietnam. A meeting that has ended is past
// whatever day it was planned for (one held early was listed as upcoming: a walk-through).
const UNDER_WAY = new Set(["open", "in_session", "adjourned"]);
// A cancelled one stays on its day, marked "Đã hủy": a member looking ahead learns not to come.
const ENDED = new Set(["closed", "minutes_signed", "archived"]);
function groups(meetings) {
  const today = dayOf(new Date().toISOString());
  const by = (key) => meetings.filter((m) => !UNDER_WAY.has(m.state) && key(dayOf(m.starts_at), today, ENDED.has(m.state)));
  const soonest = (a, b) => a.starts_at.localeCompare(b.starts_at);
  return [
    ["now", "Đang diễn ra", "Under way", meetings.filter((m) => UNDER_WAY.has(m.state)).sort(soonest)],
    ["today", "Hôm nay", "Today", by((d, t) => d === t).sort(soonest)],
    ["upcoming", "Sắp tới", "Upcoming", by((d, t, ended) => d > t && !ended).sort(soonest)],
    ["past", "Đã qua", "Past", by((d, t, ended) => d < t || (d > t && ended)).sort((a, b) => -soonest(a, b))],
  ];
}

function render(meetings) {
  if (!meetings.length) return fill($("#meetings"), h("p", { class: "muted" }, bi("Chưa có cuộc họp nào.", "No meetings yet.")));
  fill($("#meetings"), groups(meetings).filter(([, , , list]) => list.length).map(([key, vi, en, list]) =>
    h("section", { class: "meeting-group", dataset: { group: key } },
      h("h3", {}, bi(vi, en), " ", h("span", { class: "muted" }, `(${list.length})`)),
      h("ul", { class: "plain meeting-cards" }, list.map(card)))));
}

// The list a page at a time: "Xem thêm" fetches the next page the server points at.
async function load(query) {
  const shown = [];
  let next = `/api/meetings?${new URLSearchParams({ ...query, limit: PAGE })}`;
  const more = async () => {
    const page = await apiPage(next);
    shown.push(...page.items);
    next = page.next;
    render(shown);
    $("#meetings-more").hidden = !next;
  };
  $("#more").onclick = (ev) => act(ev.currentTarget, more);
  await more();
  return shown;
}

async function filters() {
  const form = $("#filters");
  readBackDates(form);
  $("#filters-box").hidden = false;
  $("#filters-box").open = matchMedia("(min-width: 601px)").matches; // on a phone the meetings come first
  const bodies = await api("GET", "/api/bodies");
  form.elements.body_id.append(...bodies.map((b) => h("option", { value: b.id }, b.name)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const query = Object.fromEntries([...new FormData(form)].filter(([, v]) => String(v).trim()));
    act(ev.submitter, () => load(query));
  });
}

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  header(me, ["Phòng họp thông minh", "Smart meeting room"], "meetings");
  try {
    $("#new-meeting").hidden = !me.can.schedule_meetings;
    $("#new-meeting").prepend(icon("plus"));
    if (me.can.schedule_meetings || me.can.browse_archive) await filters();
    const meetings = await load({});
    const teller = meetings.some((m) => RUNNING.has(m.state) && m.can.teller) || me.can.hold_teller_key;
    if (teller) await tellerKey();
  } catch (err) { showError(err); }
})();

// The chair and the secretary each hold one lock of every secret ballot box: a key pair whose
// private half only their passphrase opens. Made once here; the passphrase is never stored.
async function tellerKey() {
  const key = await api("GET", "/api/tellers/me");
  $("#teller-key").hidden = false;
  const pass = h("input", { type: "password", id: "teller-new", autocomplete: "new-password", minlength: 10, required: true });
  const again = h("input", { type: "password", id: "teller-again", autocomplete: "new-password", minlength: 10, required: true });
  const current = h("input", { type: "password", id: "teller-current", autocomplete: "current-password" });
  const form = h("form", { id: "teller-form" },
    key.has_key ? [h("label", { for: "teller-current" }, "Mật khẩu hiện tại ", h("span", { class: "en" }, "Current passphrase")), current] : null,
    h("label", { for: "teller-new" }, "Mật khẩu khóa kiểm phiếu (ít nhất 10 ký tự) ", h("span", { class: "en" }, "Passphrase, 10+ characters")), pass,
    h("label", { for: "teller-again" }, "Nhập lại ", h("span", { class: "en" }, "Again")), again,
    h("button", { type: "submit", class: "primary", id: "teller-save" }, key.has_key ? bi("Thay khóa mới", "Change the key") : bi("Tạo khóa kiểm phiếu", "Create the teller key")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pass.value !== again.value) return toast("Hai lần nhập mật khẩu không khớp.", "error", "The two passphrases differ.");
    try {
      await api("PUT", "/api/tellers/me", { passphrase: pass.value, current_passphrase: key.has_key ? current.value : null });
      toast("Đã lưu khóa kiểm phiếu. Hãy nhớ mật khẩu: không ai khôi phục được.", "ok", "Teller key saved. Remember the passphrase: nobody can recover it.");
      await tellerKey();
    } catch (err) { showError(err); }
  });
  fill($("#teller-key-body"),
    h("p", { class: "muted" }, "Biểu quyết kín: phiếu được khóa bằng hai khóa, của chủ tọa và của thư ký. Chỉ khi máy chủ khởi động lại giữa chừng, hai người mới cần nhập mật khẩu để kiểm phiếu.",
      " ", h("span", { class: "en" }, "Secret votes are locked with two keys, the chair's and the secretary's; the passphrases are needed only if the server restarts mid-vote.")),
    key.has_key ? h("p", { id: "teller-status" }, "Bạn đã có khóa (mã nhận dạng ", h("code", {}, key.fingerprint), "). ", h("span", { class: "en" }, "You have a key.")) : h("p", { id: "teller-status" }, h("b", {}, "Bạn chưa có khóa kiểm phiếu."), " ", h("span", { class: "en" }, "You have no teller key yet.")),
    form);
}
