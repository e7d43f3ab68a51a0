// The chair's view of remote participation: who is on the call now (live from the meeting
// stream), switching a remote microphone off, and invitation links for participants who join
// from elsewhere (create, copy, revoke). Everything by tap; revoking takes a second tap.
import { act, api, bi, fill, fmtDateTime, h, icon, toast } from "/static/app.js";
import { qrFigure } from "/static/qr_print.js";

const STATE_VI = {
  new: ["Đang vào", "", "Joining"], connecting: ["Đang kết nối", "", "Connecting"], connected: ["Đã kết nối", "ok", "Connected"],
  disconnected: ["Mất kết nối", "bad", "Disconnected"], failed: ["Lỗi kết nối", "bad", "Connection failed"], closed: ["Đã thoát", "", "Left"],
};
const HOURS = [[2, "2 giờ", "2 hours"], [8, "8 giờ", "8 hours"], [24, "24 giờ", "24 hours"], [72, "3 ngày", "3 days"]];
let lastLink = null; // the link just made: its token is shown once, so a redraw must keep it
let invitee = "";
let hours = 24;
const revokes = new Map(); // invitation id -> its revoke button, kept across redraws: calls keep arriving between the two taps

function callList(live) {
  const calls = live.calls || [];
  const mute = (c) => (ev) => act(ev.currentTarget, async () => {
    await api("POST", `/api/meetings/${live.id}/calls/${c.member_id}/mute`, { muted: !c.muted });
    toast(c.muted ? `Đã bật lại micrô của ${c.name}` : `Đã tắt micrô của ${c.name}`, "ok", c.muted ? `${c.name}'s microphone unmuted` : `${c.name}'s microphone muted`);
  });
  if (!calls.length) return h("p", { class: "muted", id: "call-list" }, ...bi("Chưa có ai tham gia trực tuyến.", "Nobody has joined online yet."));
  return h("ul", { class: "plain", id: "call-list" }, calls.map((c) => {
    const [label, tone, en] = STATE_VI[c.state] || [c.state, "", ""];
    return h("li", { class: "row", dataset: { member: c.member_id } },
      h("span", { class: "grow" }, c.name, c.video_in ? [" ", icon("camera")] : "", c.muted ? h("span", { class: "muted" }, " · micrô tắt ", h("span", { class: "en" }, "muted")) : ""),
      h("span", { class: `badge ${tone}`, dataset: { state: c.state }, title: en }, label),
      live.staff ? h("button", { type: "button", "aria-pressed": String(c.muted), "aria-label": `${c.muted ? "Bật" : "Tắt"} micrô của ${c.name}`, onclick: mute(c) },
        c.muted ? [icon("mic"), " Bật micrô ", h("span", { class: "en" }, "Unmute")] : [icon("micOff"), " Tắt micrô ", h("span", { class: "en" }, "Mute")]) : null);
  }));
}

function linkBox(live) {
  if (!lastLink || live.ended) return null;
  // the member's earlier links opened and still valid, as the list says now: the warning goes once
  // such a link is revoked (it stayed up after the tap: a walk-through)
  const opened = (live.invitations || []).filter((i) => i.member_id === lastLink.member_id && i.id !== lastLink.id && i.used && i.valid);
  const input = h("input", { id: "invite-url", readonly: true, value: lastLink.url, "aria-label": `Liên kết mời ${lastLink.full_name}`, onfocus: (ev) => ev.currentTarget.select() });
  const copy = h("button", { type: "button", class: "primary", id: "invite-copy", onclick: async () => {
    try { await navigator.clipboard.writeText(lastLink.url); } catch { input.select(); document.execCommand("copy"); }
    toast(`Đã sao chép liên kết: gửi cho ${lastLink.full_name} qua thư điện tử hoặc tin nhắn công vụ.`, "ok",
      `Link copied: send it to ${lastLink.full_name} by e-mail or an official messaging app.`);
  } }, icon("copy"), " Sao chép ", h("span", { class: "en" }, "Copy"));
  return h("div", { class: "invite-link", role: "status", dataset: { invitation: lastLink.id } },
    h("p", {}, ...bi(`Liên kết cho ${lastLink.full_name}, dùng được đến ${fmtDateTime(lastLink.expires_at)} (chỉ hiện một lần):`,
      `The link for ${lastLink.full_name}, valid until ${fmtDateTime(lastLink.expires_at)} (shown only once):`)),
    lastLink.replaces ? h("p", { class: "muted", id: "invite-replaced" }, ...bi(
      `Liên kết gửi trước cho ${lastLink.full_name} mà chưa được mở nay không còn dùng được.`,
      `The earlier link for ${lastLink.full_name}, not yet opened, no longer works.`)) : null,
    // one already opened stays (that browser may be theirs): if it was not, the staff revoke it, which
    // ends only the sessions opened from it (an attacker's probe)
    opened.length ? h("p", { class: "card warn", id: "invite-opened" }, ...bi(
      `Liên kết gửi cho ${lastLink.full_name} lúc ${opened.map((i) => fmtDateTime(i.created_at)).join(", ")} đã được mở và vẫn dùng được. Nếu người mở không phải ${lastLink.full_name}, hãy thu hồi liên kết đó trong danh sách dưới đây.`,
      `The link for ${lastLink.full_name} made at ${opened.map((i) => fmtDateTime(i.created_at)).join(", ")} was opened and still works. If it was not ${lastLink.full_name} who opened it, revoke it in the list below.`)) : null,
    h("div", { class: "row" }, input, copy),
    h("p", { class: "link-text", id: "invite-url-text" }, lastLink.url), // the whole link, to read or check by eye
    lastLink.figure);
}

function invitationForm(live) {
  const people = (live.participants || []).filter((p) => p.member_id !== live.me.id);
  const who = h("select", { id: "invite-member", "aria-label": "Người được mời", onchange: (ev) => { invitee = ev.currentTarget.value; } },
    h("option", { value: "" }, "— Chọn người / Choose —"),
    people.map((p) => h("option", { value: p.member_id, selected: p.member_id === invitee }, p.full_name)));
  const length = h("select", { id: "invite-hours", "aria-label": "Thời hạn của liên kết", onchange: (ev) => { hours = Number(ev.currentTarget.value); } },
    HOURS.map(([v, label, en]) => h("option", { value: v, selected: v === hours }, `Hiệu lực ${label} / valid ${en}`)));
  const make = h("button", { type: "button", class: "primary", id: "invite-create", onclick: (ev) => act(ev.currentTarget, async () => {
    if (!invitee) return toast("Hãy chọn người được mời trước.", "error", "Choose who the link is for.");
    lastLink = await api("POST", `/api/meetings/${live.id}/invitations`, { member_id: invitee, hours });
    // its QR code, built once: the panel is redrawn as calls and invitations change
    lastLink.figure = qrFigure({ ...lastLink, meeting: live.meeting?.title || "", what: "Liên kết mời tham gia cuộc họp từ xa", who: lastLink.full_name,
      hint: "Quét mã bằng máy ảnh của điện thoại hoặc máy tính bảng để vào cuộc họp, không cần mật khẩu." });
    invitee = "";
    await live.load("invitations");
  }) }, icon("link"), " Tạo liên kết mời ", h("span", { class: "en" }, "Make a link"));
  return h("div", { class: "row" }, who, length, make);
}

function invitationList(live, confirmTap) {
  const rows = live.invitations || [];
  if (!rows.length) return h("p", { class: "muted" }, ...bi("Chưa có liên kết mời nào.", "No invitation links yet."));
  const now = Date.now();
  return h("ul", { class: "plain", id: "invitation-list" }, rows.map((inv) => {
    const expired = new Date(inv.expires_at).getTime() <= now;
    const [status, en] = inv.replaced ? ["Đã thay bằng liên kết mới", "replaced by a newer link"] : inv.revoked ? ["Đã thu hồi", "revoked"]
      : live.ended ? ["Hết hiệu lực: cuộc họp đã kết thúc", "no longer valid: the meeting has ended"] : expired ? ["Hết hạn", "expired"]
        : inv.used ? ["Đã dùng", "opened"] : ["Chưa dùng", "not yet opened"];
    const usable = inv.valid && !expired && !live.ended; // the server's word, and what changed since the list came
    if (!revokes.has(inv.id)) {
      const revoke = h("button", { type: "button", class: "danger", "aria-label": `Thu hồi liên kết của ${inv.full_name}` }, "Thu hồi ", h("span", { class: "en" }, "Revoke"));
      revoke.addEventListener("click", () => confirmTap(revoke, "Chạm lần nữa để thu hồi / Tap again to revoke", async () => {
        await api("DELETE", `/api/meetings/${live.id}/invitations/${inv.id}`);
        if (lastLink?.id === inv.id) lastLink = null;
        toast(`Đã thu hồi liên kết của ${inv.full_name}.`, "ok", `${inv.full_name}'s link revoked.`);
        await live.load("invitations");
      }));
      revokes.set(inv.id, revoke);
    }
    const revoke = revokes.get(inv.id);
    return h("li", { class: "row", dataset: { invitation: inv.id } },
      // when each was made tells the member's links apart (four rows of one name looked the same: a walk-through)
      h("span", { class: "grow" }, inv.full_name, h("div", { class: "muted" }, `Tạo lúc ${fmtDateTime(inv.created_at)} · ${status}`,
        usable ? ` · hết hạn ${fmtDateTime(inv.expires_at)}` : "", " ",
        h("span", { class: "en" }, `made ${fmtDateTime(inv.created_at)} · ${en}${usable ? ` · expires ${fmtDateTime(inv.expires_at)}` : ""}`))),
      usable ? revoke : null);
  }));
}

export function remotePanel(live, el, confirmTap) {
  const open = el.querySelector("details")?.open ?? false;
  fill(el, h("h2", {}, "Họp trực tuyến ", h("span", { class: "en" }, "Remote participants")),
    callList(live),
    live.staff ? h("details", { id: "invitations", open: open || !!lastLink },
      h("summary", { class: "button" }, "Liên kết mời tham gia từ xa ", h("span", { class: "en" }, "Invitation links")),
      // the surprise a walk-through foresaw for whoever sends it: the link opens in one browser only
      h("p", { class: "muted" }, "Người nhận mở liên kết là vào được cuộc họp này (chỉ cuộc họp này) đến khi hết hạn hoặc bị thu hồi. Mỗi liên kết chỉ mở được trên một trình duyệt: người nhận nên mở trên máy họ dùng để họp. ",
        h("span", { class: "en" }, "The link lets its holder into this meeting only, until it expires or is revoked, in one browser only.")),
      live.ended ? null : invitationForm(live), linkBox(live), invitationList(live, confirmTap)) : null);
}
