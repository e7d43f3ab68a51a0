// Before the meeting: the member's reply to the invitation and their opinions asked ahead (member
// page), and for those who prepare it the replies with the expected quorum and the grouped opinions
// (chair console). Shown while the meeting is scheduled; the server decides every rule.
import { act, api, fieldDay, fill, fmtDateTime, h, readBack, toast } from "/static/app.js";

const ANSWERS = [
  ["in_room", "Dự họp tại phòng họp", "In the room"],
  ["online", "Dự họp trực tuyến", "Online"],
  ["absent", "Vắng mặt (ghi lý do)", "Absent, with a reason"],
  ["deputy", "Cử người dự thay", "Sending a deputy"],
];
const en = (text) => h("span", { class: "en" }, text);

// The form is built once and kept: the page redraws on every event, and a rebuilt form would lose
// what the member is typing.
export class ReplyCard {
  constructor(live, el) { Object.assign(this, { live, el, form: null, reply: undefined, status: h("div", { id: "reply-status", role: "status" }) }); }

  async show() {
    const scheduled = this.live.meeting?.state === "scheduled";
    if (!scheduled) { this.el.hidden = true; return; }
    if (this.reply === undefined) {
      try { this.reply = (await api("GET", `/api/meetings/${this.live.id}/reply`)).reply; } catch { this.el.hidden = true; return; } // not invited
    }
    if (!this.form) this.form = await this.build();
    this.drawStatus();
    if (!this.el.contains(this.form)) fill(this.el, h("h2", {}, "Trả lời giấy mời ", en("Your reply")), this.status, this.form);
    this.el.hidden = false;
  }

  drawStatus() {
    const r = this.reply;
    fill(this.status, r
      ? h("p", { class: "result passed" }, "Bạn đã trả lời: ", h("strong", {}, r.answer_label),
        r.deputy_name ? ` — ${r.deputy_name}` : "", r.reason ? ` (${r.reason})` : "", ". Có thể đổi đến khi khai mạc.", en(" You may change it until the meeting opens."))
      : h("p", { class: "muted" }, "Bạn chưa trả lời giấy mời.", en(" You have not replied yet.")));
  }

  async build() {
    let colleagues = [];
    try {
      const taken = new Set((this.live.participants || []).map((p) => p.member_id));
      colleagues = (await api("GET", `/api/members?body_id=${encodeURIComponent(this.live.meeting.body_id)}`)).filter((m) => m.active && !taken.has(m.id));
    } catch { /* a deputy can still be named as a guest */ }
    const reason = h("div", { class: "reply-reason", hidden: true },
      h("label", { for: "reply-reason" }, "Lý do vắng mặt ", en("Reason")), h("textarea", { id: "reply-reason", name: "reason", maxlength: 2000 }));
    const deputy = h("div", { class: "reply-deputy", hidden: true },
      colleagues.length ? [h("label", { for: "reply-deputy-member" }, "Thành viên cùng cơ quan dự thay ", en("A colleague")),
        h("select", { id: "reply-deputy-member", name: "deputy_member_id" }, h("option", { value: "" }, "— hoặc ghi tên khách mời bên dưới —"),
          colleagues.map((m) => h("option", { value: m.id }, m.title ? `${m.full_name} (${m.title})` : m.full_name)))] : null,
      colleagues.length ? h("label", { for: "reply-deputy-name" }, "Họ tên người dự thay (khách mời) ", en("Or a guest's full name"))
        : h("label", { for: "reply-deputy-name" }, "Họ tên người dự thay ", en("The deputy's full name")),
      h("input", { id: "reply-deputy-name", name: "deputy_name", maxlength: 255, autocomplete: "name" }),
      h("label", { for: "reply-deputy-title" }, "Chức vụ ", en("Title")),
      h("input", { id: "reply-deputy-title", name: "deputy_title", maxlength: 255 }));
    const form = h("form", { class: "reply", id: "reply-form" },
      h("fieldset", { class: "choices" }, h("legend", { class: "sr-only" }, "Trả lời giấy mời"),
        ANSWERS.map(([value, vi, english]) => h("label", { class: "choice" },
          h("input", { type: "radio", name: "answer", value, checked: this.reply?.answer === value }), h("span", {}, vi, en(` ${english}`))))),
      reason, deputy, h("button", { type: "submit", class: "primary big", id: "send-reply" }, "Gửi trả lời"));
    const shown = () => {
      const answer = new FormData(form).get("answer");
      reason.hidden = answer !== "absent";
      deputy.hidden = answer !== "deputy";
    };
    form.addEventListener("change", shown);
    shown();
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const answer = f.get("answer");
      if (!answer) return toast("Hãy chọn một câu trả lời.", "error", "Choose an answer first.");
      const body = { answer };
      if (answer === "absent") body.reason = String(f.get("reason") || "");
      if (answer === "deputy") {
        if (f.get("deputy_member_id")) body.deputy_member_id = String(f.get("deputy_member_id"));
        else {
          body.deputy_name = String(f.get("deputy_name") || "").trim();
          if (String(f.get("deputy_title") || "").trim()) body.deputy_title = String(f.get("deputy_title")).trim();
        }
      }
      act(ev.submitter, async () => {
        this.reply = (await api("PUT", `/api/meetings/${this.live.id}/reply`, body)).reply;
        this.drawStatus();
        toast("Đã gửi trả lời giấy mời.", "ok", "Reply sent.");
      });
    });
    return form;
  }
}

const closed = (p) => p.state !== "open" || (p.closes_at && Date.parse(p.closes_at) <= Date.now());

function documentLink(live, p) {
  const doc = (live.agenda || []).flatMap((i) => i.documents).find((d) => d.id === p.document_id);
  return doc ? h("p", {}, "Dự thảo: ", h("a", { href: doc.url, target: "_blank", rel: "noopener" }, doc.title)) : null;
}

// The member's opinions asked before the meeting: the poll's own ballot form (kept by the page).
export function opinionsPanel(live, el, ballotForm) {
  const asked = (live.polls || []).filter((p) => p.before_meeting && p.state !== "cancelled");
  el.hidden = !asked.length;
  if (!asked.length) return fill(el);
  const item = (p) => (live.agenda || []).find((i) => i.id === p.agenda_item_id);
  fill(el, h("h2", {}, "Xin ý kiến trước cuộc họp ", en("Opinions asked")),
    asked.map((p) => h("section", { class: "poll opinion", dataset: { poll: p.id } },
      h("h3", {}, p.title), item(p) ? h("p", { class: "muted" }, `Mục ${item(p).position}. ${item(p).title}`) : null,
      p.description ? h("p", {}, p.description) : null, documentLink(live, p),
      h("p", {}, "Hạn góp ý: ", h("strong", {}, fmtDateTime(p.closes_at)), en(" Deadline")),
      !p.you.eligible ? h("p", { class: "muted" }, "Ý kiến được xin từ các thành viên dự họp. ", h("span", { class: "en" }, "Opinions are asked of the meeting's members."))
        : closed(p) ? h("p", { class: "vote-state" }, p.you.voted ? "Đã hết hạn góp ý; ý kiến của bạn đã được ghi nhận." : "Đã hết hạn góp ý.", en(" The deadline has passed."))
        : p.you.voted ? [h("p", { class: "result passed", id: `opinion-sent-${p.id}` }, "Bạn đã gửi ý kiến. Có thể sửa đến hạn góp ý.", en(" Sent; you may change it until the deadline.")),
          h("details", {}, h("summary", {}, "Sửa ý kiến ", en("Change it")), ballotForm(p))]
        : ballotForm(p))));
}

// Asking the members' opinions on an agenda item (and a draft) until a deadline: built once and kept,
// so that a redraw of the card does not lose what is being typed.
let askForm;
function opinionForm(live) {
  if (askForm) return askForm;
  const items = live.agenda || [];
  const docs = items.flatMap((i) => i.documents.map((d) => ({ ...d, item: i })));
  const deadline = h("input", { id: "ask-deadline", name: "deadline", type: "datetime-local", required: true });
  askForm = h("form", { class: "ask-opinion", id: "ask-opinion" },
    h("h3", {}, "Xin ý kiến trước cuộc họp ", en("Ask for opinions")),
    h("label", { for: "ask-title" }, "Nội dung xin ý kiến ", en("Subject")), h("input", { id: "ask-title", name: "title", required: true, maxlength: 500 }),
    h("label", { for: "ask-item" }, "Mục chương trình ", en("Agenda item")),
    h("select", { id: "ask-item", name: "agenda_item_id" }, items.map((i) => h("option", { value: i.id }, `${i.position}. ${i.title}`))),
    docs.length ? [h("label", { for: "ask-document" }, "Dự thảo ", en("Draft")),
      h("select", { id: "ask-document", name: "document_id" }, h("option", { value: "" }, "— không kèm tài liệu —"), docs.map((d) => h("option", { value: d.id }, `${d.item.position}. ${d.title}`)))] : null,
    h("label", { for: "ask-deadline" }, "Hạn góp ý ", en("Deadline")), deadline, readBack([deadline], () => fieldDay(deadline.value)),
    h("label", { for: "ask-options" }, "Phương án, cách nhau bởi dấu ; (để trống: chỉ ý kiến viết) ", en("Choices")),
    h("input", { id: "ask-options", name: "options", value: "Đồng ý; Không đồng ý" }),
    h("button", { type: "submit", class: "primary", id: "ask-send" }, "Xin ý kiến"));
  askForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(askForm);
    const body = {
      title: String(f.get("title")), agenda_item_id: String(f.get("agenda_item_id")),
      deadline: new Date(String(f.get("deadline"))).toISOString(), // the browser's local time, sent with its zone
      options: String(f.get("options") || "").split(";").map((o) => o.trim()).filter(Boolean),
    };
    if (f.get("document_id")) body.document_id = String(f.get("document_id"));
    act(ev.submitter, async () => {
      await api("POST", `/api/meetings/${live.id}/opinions`, body);
      askForm.reset();
      toast("Đã gửi xin ý kiến đến các thành viên.", "ok", "Opinions asked.");
      await live.load("polls");
    });
  });
  return askForm;
}

// For the chair and secretary while the meeting is scheduled: who replied what, the quorum the
// replies promise, and the opinions asked ahead, grouped by choice.
export async function repliesPanel(live, el) {
  if (live.meeting?.state !== "scheduled") { el.hidden = true; return; }
  let data;
  try { data = await api("GET", `/api/meetings/${live.id}/replies`); } catch { el.hidden = true; return; }
  const x = data.expected;
  const asked = (live.polls || []).filter((p) => p.before_meeting && p.state !== "cancelled");
  const grouped = await Promise.all(asked.map((p) => api("GET", `/api/meetings/${live.id}/opinions/${p.id}`).catch(() => null)));
  fill(el, h("h2", {}, "Trả lời giấy mời ", en("Replies")),
    h("p", { class: "quorum" }, h("span", { id: "expected-quorum", class: `badge ${x.quorum_expected ? "ok" : "bad"}` }, x.quorum_expected ? "Dự kiến đủ số lượng" : "Dự kiến chưa đủ"),
      // the counts are the voting members' (the quorum's); the list below also names any guests
      ` Đại biểu dự kiến có mặt ${x.attending}/${x.voting} (cần ${x.quorum_needed}, tức 2/3); vắng ${x.absent}; cử người dự thay ${x.deputies}; chưa trả lời ${x.not_replied}.`),
    h("ul", { class: "plain replies" }, data.replies.map((r) => h("li", { dataset: { member: r.member_id } },
      h("strong", {}, r.full_name), ": ", r.represents_name ? `dự thay ${r.represents_name}` : r.answer_label,
      r.deputy_name ? ` — ${r.deputy_name}` : "", r.reason ? ` (${r.reason})` : ""))),
    grouped.filter(Boolean).map((g) => h("section", { class: "opinions", dataset: { poll: g.poll.id } },
      h("h3", {}, "Ý kiến: ", g.poll.title), h("p", { class: "muted" }, `${g.answered}/${g.poll.electorate?.eligible ?? "?"} đã góp ý; hạn ${fmtDateTime(g.poll.closes_at)}.`),
      g.groups.map((grp) => h("div", {}, h("h4", {}, `${grp.label}: ${grp.count}`),
        grp.opinions.filter((o) => o.text).length ? h("ul", {}, grp.opinions.filter((o) => o.text).map((o) => h("li", {}, h("strong", {}, o.full_name), `: ${o.text}`))) : null)))),
    live.can.run_meeting && (live.agenda || []).length ? opinionForm(live) : null);
  el.hidden = false;
}
