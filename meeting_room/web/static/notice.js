// The conclusion notice on the record page: the chair's conclusion per agenda item (drafted from the
// minutes and the polls), saved in versions, signed by the chair alone, downloaded as PDF.
// What the viewer may do comes from the API (editable, can_sign); the server checks every request.
import { act, api, fill, fmtDateTime, h, showError, toast, $ } from "/static/app.js";
import { KEY_PROBLEM } from "/static/signing_key.js";

// The notice is signed on the server only (no command for a USB token, as the minutes have)
const TOKEN_NOTICE = () => ["Thông báo kết luận được ký bằng chứng thư số lưu trên máy chủ; chứng thư của bạn nằm trên USB token: hãy nhờ quản trị viên đăng ký tệp .p12 của bạn để ký tại đây.",
  h("span", { class: "en" }, " The notice is signed with a certificate kept on the server; yours is on a USB token: ask the administrator to register your .p12 to sign here.")];

export async function mountNotice(card, meetingId) {
  const base = `/api/meetings/${meetingId}`;
  const title = h("h2", { id: "notice-heading" }, "Thông báo kết luận ", h("span", { class: "en" }, "Conclusion notice"));
  let n;
  try { n = await api("GET", `${base}/notice`); } catch (err) {
    if (err.status === 403) { // a draft others may not read yet: when it can be read, not a refusal
      return fill(card, title, h("p", { class: "muted", id: "notice-later" }, "Thông báo kết luận sẽ hiện ở đây khi chủ tọa đã ký. ",
        h("span", { class: "en" }, "The conclusion notice appears here once the chair has signed it.")));
    }
    return showError(err);
  }
  const ro = !n.editable, reload = () => mountNotice(card, meetingId);
  const field = (name, label, en, value, rows) => [h("label", { for: `n-${name}` }, label, " ", h("span", { class: "en" }, en)),
    rows ? h("textarea", { id: `n-${name}`, name, readonly: ro, rows }, value) : h("input", { id: `n-${name}`, name, value, readonly: ro })];
  const form = h("form", { id: "notice-form" },
    h("p", { class: "muted" }, n.heading),
    field("number", "Số thông báo", "Number", n.number), field("locality", "Địa danh (dòng ngày tháng)", "Place on the date line", n.locality),
    field("authority", "Thẩm quyền ký (TM./KT./TL. …)", "Signing authority", n.authority),
    n.items.map((i, index) => h("div", { class: "section" }, h("h3", {}, `${index + 1}. ${i.title}`),
      h("textarea", { name: `item:${i.item_id}`, readonly: ro, rows: 4, "aria-label": `Kết luận: ${i.title}`, placeholder: "Chưa có kết luận — hãy soạn" }, i.text))),
    field("recipients", "Nơi nhận thông báo (mỗi dòng một nơi)", "Recipients, one per line", n.recipients.join("\n"), 3),
    !ro ? h("button", { type: "submit", class: "primary big", id: "save-notice" }, "Lưu thông báo ", h("span", { class: "en" }, "Save")) : null);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form), items = {};
    for (const [k, v] of f.entries()) if (k.startsWith("item:")) items[k.slice(5)] = String(v);
    const body = { base_version: n.version, number: f.get("number"), locality: f.get("locality"), authority: f.get("authority"), items,
      recipients: String(f.get("recipients")).split("\n").map((s) => s.trim()).filter(Boolean) };
    act(ev.submitter, async () => { const r = await api("PUT", `${base}/notice`, body); toast(`Đã lưu phiên bản ${r.version}.`, "ok", `Saved version ${r.version}.`); await reload(); });
  });
  const keyProblem = n.can_sign && n.signing_key !== "server"
    ? h("p", { class: "error", id: "notice-signing-key" }, (n.signing_key === "token" ? TOKEN_NOTICE : KEY_PROBLEM[n.signing_key] || KEY_PROBLEM.none)()) : null;
  const sign = n.can_sign && !keyProblem ? h("form", { id: "notice-sign-form" },
    h("label", { for: "notice-passphrase" }, "Ký thông báo với vai trò Chủ tọa: mật khẩu của chứng thư số", h("span", { class: "en" }, " certificate passphrase (used once, never stored)")),
    h("input", { id: "notice-passphrase", type: "password", autocomplete: "off", required: true }),
    h("button", { type: "submit", class: "primary big" }, "Ký số thông báo ", h("span", { class: "en" }, "Sign the notice"))) : null;
  sign?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(ev.submitter, async () => {
      await api("POST", `${base}/notice/sign`, { passphrase: $("#notice-passphrase").value });
      toast("Đã ký thông báo kết luận.", "ok", "The conclusion notice is signed.");
      await reload();
    });
  });
  fill(card, title,
    h("p", {}, h("span", { class: n.signature ? "badge ok" : "badge", id: "notice-state" },
      n.signature ? `Chủ tọa đã ký lúc ${fmtDateTime(n.signature.signed_at)}` : n.version ? `Phiên bản ${n.version}, chưa ký` : "Bản nháp tự động, chưa ký"),
      " ", h("a", { class: "button", href: `${base}/notice.pdf`, download: "", id: "notice-pdf" }, "Tải PDF ", h("span", { class: "en" }, "Download"))),
    form, keyProblem || sign);
}
