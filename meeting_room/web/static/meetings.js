// The meetings a person may see, with the way into each: console, member page, record.
import { api, fill, fmtDateTime, h, header, showError, toast, whoAmI, $ } from "/static/app.js";

const RUNNING = new Set(["scheduled", "open", "in_session", "adjourned"]);

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  header(me, "Phòng họp thông minh", "meetings");
  try {
    const meetings = await api("GET", "/api/meetings");
    fill($("#meetings"), meetings.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Cuộc họp"), h("th", {}, "Thời gian"), h("th", {}, "Trạng thái"), h("th", {}, ""))),
      h("tbody", {}, meetings.map((m) => {
        return h("tr", { dataset: { meeting: m.id } }, h("td", {}, h("b", {}, m.title)), h("td", {}, fmtDateTime(m.starts_at)),
          h("td", {}, h("span", { class: `badge ${m.state === "in_session" ? "live" : ""}` }, m.state_label)),
          h("td", { class: "row" },
            RUNNING.has(m.state) && m.can.run_meeting ? h("a", { class: "button primary", href: `/chair/${m.id}` }, "Bàn điều hành") : null,
            RUNNING.has(m.state) && m.my_role ? h("a", { class: "button", href: `/member/${m.id}` }, "Vào họp") : null,
            !RUNNING.has(m.state) ? h("a", { class: "button", href: `/clerk/${m.id}` }, "Hồ sơ cuộc họp") : null));
      })))
      : h("p", { class: "muted" }, "Bạn chưa được mời vào cuộc họp nào."));
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
    h("button", { type: "submit", class: "primary", id: "teller-save" }, key.has_key ? "Thay khóa mới" : "Tạo khóa kiểm phiếu"));
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
    key.has_key ? h("p", { id: "teller-status" }, "Bạn đã có khóa (mã nhận dạng ", h("code", {}, key.fingerprint), ").") : h("p", { id: "teller-status" }, h("b", {}, "Bạn chưa có khóa kiểm phiếu.")),
    form);
}
