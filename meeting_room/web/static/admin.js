// Administration: members and roles (edit, deactivate, reset a password, import a CSV/XLSX list,
// import many members' face photos as a ZIP);
// for each member the biometric consent, face photos (from a file or the browser's camera), a voice
// reading (from a file or the microphone) and the signing certificate; rooms, their seats and who
// usually sits where; the rooms' devices as this server sees them; certificates (signing
// certificates and their expiry, the server's HTTPS).
import { ApiError, act, api, bi, fill, fmtDateTime, fmtTime, h, header, icon, showError, toast, twoTaps, whoAmI, $ } from "/static/app.js";

const ROLES = { admin: "Quản trị", chair: "Chủ tọa", secretary: "Thư ký", clerk: "Văn thư", member: "Thành viên", guest: "Khách mời" };
const ROLES_EN = { admin: "Administrator", chair: "Chair", secretary: "Secretary", clerk: "Clerk", member: "Member", guest: "Guest" };
// the role checkboxes of a member's form: Vietnamese, then English
const roleBoxes = (checked) => h("fieldset", {}, h("legend", {}, bi("Vai trò", "Roles")), Object.entries(ROLES).map(([k, v]) => h("label", { class: "row" },
  h("input", { type: "checkbox", name: "roles", value: k, checked: checked(k), style: "width:28px" }), v, " ", h("span", { class: "en" }, ROLES_EN[k]))));
// Vietnamese with its English, or alone where there is none (a state the page does not know, a word the same in both)
const both = (vi, en) => (en && en !== vi ? bi(vi, en) : vi);
let bodies = [];

let members = [];

async function renderMembers(select) {
  const asked = memberShown; // a card another tap asks for while the list loads wins over ``select``
  members = await api("GET", "/api/members?limit=500"); // the largest page the server gives
  // a redraw (after an import, an edit) keeps what was typed in the find field, and its focus
  const before = $("#member-filter"), typed = before?.value || "", focused = !!before && document.activeElement === before;
  const filter = h("input", { type: "search", id: "member-filter", autocomplete: "off", placeholder: "Nguyễn Văn A, daibieu07…", value: typed });
  // the form for a new member sits below the list and the imports: one tap takes the administrator there
  const toNew = h("button", { type: "button", id: "to-new-member", onclick: () => {
    $("#new-member").scrollIntoView({ block: "start" });
    $("#new-member input")?.focus({ preventScroll: true });
  } }, "+ Thêm thành viên ", h("span", { class: "en" }, "Add a member"));
  fill($("#members"), h("div", { class: "row" }, h("h2", { class: "grow" }, "Thành viên ", h("span", { class: "en" }, "Members"), " ", h("span", { class: "badge", id: "member-count" }, members.length)), toNew),
    h("label", { for: "member-filter" }, "Tìm thành viên theo họ tên hoặc tài khoản ", h("span", { class: "en" }, "Find a member by name or username")), filter,
    h("p", { class: "muted", id: "member-none", hidden: true }, "Không có thành viên nào khớp. ", h("span", { class: "en" }, "No member matches.")),
    h("div", { class: "member-scroll" }, h("table", { id: "member-list" }, h("thead", {}, h("tr", {}, h("th", {}, bi("Họ tên", "Name")), h("th", {}, bi("Vai trò", "Roles")), h("th", {}, bi("Tên đăng nhập", "Username")), h("th", {}, ""))),
      h("tbody", {}, members.map((m) => h("tr", { dataset: { member: m.id, username: m.username || "" }, class: m.active ? null : "inactive" },
        h("td", {}, m.full_name, m.title ? h("div", { class: "muted" }, m.title) : null, m.active ? null : h("span", { class: "badge bad" }, bi("Đã khóa", "Disabled"))),
        h("td", {}, m.roles.map((r) => ROLES[r] || r).join(", "), h("div", { class: "en" }, m.roles.map((r) => ROLES_EN[r] || r).join(", "))), h("td", {}, m.username || "—"),
        h("td", {}, h("button", { type: "button", onclick: () => showMember(m).then(() => $("#member-detail").scrollIntoView({ block: "start" })), class: "two-line" }, "Chọn", h("span", { class: "en" }, "Open")))))))));
  // a long list on a phone: typing a few letters of the name (diacritics or not) or the username narrows it
  const narrow = () => {
    const words = folded(filter.value).split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of $("#member-list tbody").rows) {
      const m = members.find((x) => x.id === row.dataset.member);
      // each word typed begins a word of the name or the username ("ha" finds Hà, not Thành)
      const hay = folded(`${m.full_name} ${m.username || ""}`).split(/[\s._-]+/);
      row.hidden = !words.every((w) => hay.some((word) => word.startsWith(w)));
      shown += row.hidden ? 0 : 1;
    }
    $("#member-none").hidden = shown > 0;
  };
  filter.addEventListener("input", narrow);
  if (typed) narrow();
  if (focused) filter.focus();
  if (select && memberShown === asked) showMember(members.find((m) => m.id === select));
}

// Lower case without diacritics (đ as d), as the server folds names for search.
const folded = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();

function newMemberForm() {
  const form = h("form", { id: "member-form" },
    h("label", { for: "nm-name" }, bi("Họ và tên", "Full name")), h("input", { id: "nm-name", name: "full_name", required: true, maxlength: 255 }),
    h("label", { for: "nm-title" }, bi("Chức vụ", "Title")), h("input", { id: "nm-title", name: "title", maxlength: 255 }),
    h("label", { for: "nm-email" }, bi("Thư điện tử (giấy mời, nhắc lịch)", "E-mail (invitations, reminders)")), h("input", { id: "nm-email", name: "email", type: "email", maxlength: 254, autocomplete: "off" }),
    h("label", { for: "nm-body" }, bi("Cơ quan", "Body")), h("select", { id: "nm-body", name: "body_id" }, h("option", { value: "" }, "—"), bodies.map((b) => h("option", { value: b.id }, b.name))),
    roleBoxes((k) => k === "member"),
    h("label", { for: "nm-user" }, bi("Tên đăng nhập", "Username")), h("input", { id: "nm-user", name: "username", autocomplete: "off", required: true, pattern: "[A-Za-z0-9._\\-]{3,64}" }),
    h("label", { for: "nm-pass" }, bi("Mật khẩu ban đầu", "Initial password")), h("input", { id: "nm-pass", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10 }),
    h("p", { class: "muted" }, "Ít nhất 10 ký tự, khó đoán (không dùng tên, ngày sinh). ", h("span", { class: "en" }, "At least 10 characters, hard to guess.")),
    h("p", {}, h("button", { type: "submit", class: "primary" }, bi("Thêm thành viên", "Add member"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { full_name: f.get("full_name"), roles: f.getAll("roles"), password: String(f.get("password")) };
    for (const k of ["title", "body_id", "username", "email"]) if (String(f.get(k) || "").trim()) body[k] = String(f.get(k)).trim();
    act(ev.submitter, async () => { const m = await api("POST", "/api/members", body); form.reset(); toast(`Đã thêm ${m.full_name}.`, "ok", "Member added."); await renderMembers(m.id); });
  });
  fill($("#new-member"), h("h2", {}, "Thêm thành viên ", h("span", { class: "en" }, "New member")), form);
}

// The member's own details and account: edit, deactivate or reactivate, a temporary password.
function accountBlock(m) {
  const form = h("form", { id: "edit-member" },
    h("label", { for: "em-name" }, bi("Họ và tên", "Full name")), h("input", { id: "em-name", name: "full_name", required: true, maxlength: 255, value: m.full_name }),
    h("label", { for: "em-title" }, bi("Chức vụ", "Title")), h("input", { id: "em-title", name: "title", maxlength: 255, value: m.title || "" }),
    h("label", { for: "em-email" }, bi("Thư điện tử (giấy mời, nhắc lịch)", "E-mail (invitations, reminders)")), h("input", { id: "em-email", name: "email", type: "email", maxlength: 254, value: m.email || "" }),
    h("label", { for: "em-body" }, bi("Cơ quan", "Body")), h("select", { id: "em-body", name: "body_id" }, h("option", { value: "" }, "—"),
      bodies.map((b) => h("option", { value: b.id, selected: b.id === m.body_id }, b.name))),
    roleBoxes((k) => m.roles.includes(k)),
    h("p", {}, h("button", { type: "submit", class: "primary" }, bi("Lưu thông tin", "Save details"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { full_name: f.get("full_name"), roles: f.getAll("roles") };
    if (String(f.get("title")).trim()) body.title = String(f.get("title")).trim();
    if (f.get("body_id")) body.body_id = f.get("body_id");
    if (String(f.get("email")).trim()) body.email = String(f.get("email")).trim();
    act(ev.submitter, async () => { const r = await api("PATCH", `/api/members/${m.id}`, body); toast(`Đã lưu thông tin của ${r.full_name}.`, "ok", "Details saved."); await renderMembers(r.id); });
  });
  const active = h("button", { type: "button", id: "member-active", class: m.active ? "danger" : "primary" }, m.active ? bi("Khóa tài khoản", "Disable account") : bi("Mở lại tài khoản", "Re-enable account"));
  active.addEventListener("click", () => act(active, async () => {
    if (m.active && !confirm(`Khóa tài khoản của ${m.full_name}? Mọi phiên đăng nhập của người này kết thúc ngay.\n\nDisable ${m.full_name}'s account? All their sessions end at once.`)) return;
    const r = await api("PATCH", `/api/members/${m.id}`, { active: !m.active });
    toast(r.active ? `Đã mở lại tài khoản của ${r.full_name}.` : `Đã khóa tài khoản của ${r.full_name}.`, "ok", r.active ? "Account reopened." : "Account disabled.");
    await renderMembers(r.id);
  }));
  const shown = h("div", { id: "temp-password-box", role: "status" });
  const reset = h("button", { type: "button", id: "member-reset", disabled: !m.username || !m.active }, bi("Đặt lại mật khẩu", "Reset password"));
  reset.addEventListener("click", () => act(reset, async () => {
    if (!confirm(`Cấp mật khẩu tạm thời mới cho ${m.full_name}? Mật khẩu cũ hết hiệu lực và mọi phiên đăng nhập kết thúc.\n\nGive ${m.full_name} a new temporary password? The old one stops working and all their sessions end.`)) return;
    const r = await api("POST", `/api/members/${m.id}/password-reset`);
    const copy = h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(r.temporary_password).then(() => toast("Đã chép.", "ok", "Copied.")) }, icon("copy"), " ", ...bi("Chép", "Copy"));
    fill(shown, h("p", {}, bi("Mật khẩu tạm thời (chỉ hiện một lần, người dùng phải đổi khi đăng nhập):", "Temporary password (shown once; to be changed at login):")),
      h("p", { class: "row" }, h("code", { id: "temp-password", class: "receipt-code" }, r.temporary_password), copy));
  }));
  return [h("h3", {}, bi("Thông tin và tài khoản", "Details and account")), form,
    h("p", { class: "row" }, h("span", { id: "member-state", class: `badge ${m.active ? "ok" : "bad"}` }, m.active ? bi("Đang hoạt động", "Active") : bi("Đã khóa", "Disabled")), active, reset),
    shown];
}

// --- import many members -----------------------------------------------------------------------------

const COLUMN = { username: "Tên đăng nhập", full_name: "Họ và tên", title: "Chức vụ", body: "Cơ quan", roles: "Vai trò" };

// A cell a spreadsheet would read as a formula (= + - @ first) is given a leading apostrophe.
function csvCell(v) { let s = String(v ?? ""); if (/^[=+\-@\t\r]/.test(s)) s = "'" + s; return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s; }

function passwordsFile(issued) {
  const lines = [["Tên đăng nhập", "Họ và tên", "Mật khẩu tạm thời"], ...issued.map((i) => [i.username, i.full_name, i.temporary_password])];
  return new Blob(["\ufeff" + lines.map((l) => l.map(csvCell).join(",")).join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
}

function importCard() {
  const input = h("input", { type: "file", id: "import-file", accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const out = h("div", { id: "import-result", "aria-live": "polite" });
  const send = (path) => { const data = new FormData(); data.append("file", input.files[0]); return api("POST", path, data); };
  const check = h("button", { type: "button", id: "import-preview", class: "primary" }, bi("Xem trước", "Preview"));
  check.addEventListener("click", () => act(check, async () => {
    if (!input.files[0]) return toast("Chọn tệp CSV hoặc XLSX trước.", "error", "Choose a CSV or XLSX file first.");
    fill(out);
    showPreview(out, await send("/api/members/import/preview"), () => send("/api/members/import"));
  }));
  input.addEventListener("change", () => fill(out));
  fill($("#import-members"), h("h2", {}, "Nhập danh sách ", h("span", { class: "en" }, "Import members")),
    h("p", { class: "muted" }, "Tệp CSV (UTF-8) hoặc XLSX, dòng đầu là tiêu đề: Tên đăng nhập, Họ và tên, Chức vụ, Cơ quan, Vai trò. ",
      "Không ghi mật khẩu trong tệp: máy chủ tạo mật khẩu tạm thời cho từng người. ",
      h("span", { class: "en" }, "CSV (UTF-8) or XLSX with a header row: username, full name, title, body, roles. No passwords in the file.")),
    h("label", { for: "import-file" }, bi("Tệp danh sách", "Member list file")), input,
    h("p", {}, check), out);
}

function showPreview(out, preview, run) {
  const bad = preview.problems.length;
  const summary = h("p", { id: "import-summary" }, h("b", {}, `${preview.rows.length} thành viên hợp lệ`),
    bad ? [", ", h("b", {}, `${new Set(preview.problems.map((p) => p.row)).size} dòng lỗi`), " — chưa nhập gì; sửa tệp rồi xem trước lại."] : " — sẵn sàng nhập.",
    " ", h("span", { class: "en" }, bad ? `${bad} problem(s): nothing imported; fix the file and preview again.` : "Ready to import."));
  const problems = bad ? h("ul", { class: "plain", id: "import-problems" }, preview.problems.map((p) => h("li", { dataset: { row: p.row, column: p.column || "", code: p.code } },
    h("span", { class: "badge bad" }, `Dòng ${p.row}`), " ", p.column ? h("b", {}, `${COLUMN[p.column] || p.column}: `) : null, p.message,
    h("div", { class: "en" }, `Row ${p.row}${p.column ? ` (${p.column})` : ""}: ${p.message_en}`)))) : null;
  const go = bad ? null : h("button", { type: "button", id: "import-run", class: "primary" }, `Nhập ${preview.rows.length} thành viên `, h("span", { class: "en" }, `Import ${preview.rows.length} members`));
  go?.addEventListener("click", () => act(go, async () => {
    const issued = await run();
    const link = h("a", { class: "button primary", id: "import-passwords", href: URL.createObjectURL(passwordsFile(issued)), download: "mat-khau-tam-thoi.csv" }, icon("download"), " Tải mật khẩu tạm thời (CSV) ", h("span", { class: "en" }, "Download the temporary passwords"));
    fill(out, h("p", { id: "import-done" }, h("b", {}, `Đã nhập ${issued.length} thành viên.`), " ", h("span", { class: "en" }, `${issued.length} members imported.`)),
      h("p", {}, link), h("p", { class: "muted" }, "Mật khẩu tạm thời chỉ có ở đây, một lần: tải về và trao riêng cho từng người; họ phải đổi mật khẩu khi đăng nhập lần đầu. ",
        h("span", { class: "en" }, "The temporary passwords are offered only now: download them and hand each one over privately; each person must change it at first login.")));
    toast(`Đã nhập ${issued.length} thành viên.`, "ok", `${issued.length} members imported.`);
    await renderMembers();
  }));
  const rows = preview.rows.length && !bad ? h("details", {}, h("summary", { class: "button" }, `Xem ${preview.rows.length} thành viên sẽ được thêm `, h("span", { class: "en" }, `Show the ${preview.rows.length} members to be added`)),
    h("ul", { class: "plain" }, preview.rows.map((r) => h("li", {}, h("b", {}, r.full_name), ` (${r.username})`, r.title ? ` — ${r.title}` : "",
      h("div", { class: "muted" }, [r.body_name, r.roles.map((x) => ROLES[x] || x).join(", ")].filter(Boolean).join(" · "), " ", h("span", { class: "en" }, r.roles.map((x) => ROLES_EN[x] || x).join(", "))))))) : null;
  fill(out, summary, problems, rows, go ? h("p", {}, go) : null);
}

// --- face photos of many members at once (a ZIP of one folder each), enrolled by a job --------------

const IMPORT_STATE = { queued: ["Đang chờ", "Queued", ""], running: ["Đang nhập", "Running", ""], done: ["Xong", "Done", "ok"],
  failed: ["Lỗi", "Failed", "bad"], stopped: ["Đã dừng", "Stopped", "bad"] };
let faceImportTimer = null;
let shownMember = null; // the member whose card is open
let memberShown = 0; // how many times a card was asked for
let shownImports = null; // how many import results concerned them at the last look
let adminMe = null;

// Members an import was refused for because their consent is not recorded: the administrator who holds
// their signed forms records them here in one go, then the same ZIP is sent again (it was a member's card
// each, then the upload again: a walk-through). Two taps: consent is a record that the forms exist.
function consentForImport(needs, retry) {
  const note = h("input", { id: "face-import-consent-note", maxlength: 200, autocomplete: "off", placeholder: "Phiếu số 12–40/2026, ký ngày 20/11/2026" });
  const go = h("button", { type: "button", id: "face-import-consent" }, `Ghi nhận đồng ý của ${needs.length} người rồi nhập lại `,
    h("span", { class: "en" }, `Record ${needs.length} consent(s), then import again`));
  go.addEventListener("click", () => twoTaps(go, `Chạm lần nữa: tôi có phiếu đồng ý đã ký của ${needs.length} người này / Tap again: I hold their signed forms`, () => act(go, async () => {
    const given = note.value.trim() || null;
    for (const m of needs) await api("PUT", `/api/members/${m.member_id}/biometric-consent`, { given: true, note: given });
    toast(`Đã ghi nhận đồng ý của ${needs.length} người.`, "ok", `Consent recorded for ${needs.length} member(s).`);
    if (shownMember && needs.some((m) => m.member_id === shownMember.id)) await showMember(shownMember);
    return retry();
  })));
  return h("div", { id: "face-import-consent-box" },
    h("p", {}, `Chưa ghi nhận đồng ý sinh trắc của ${needs.length} người: ${needs.map((m) => m.full_name).join(", ")}. Nếu bạn đã có phiếu đồng ý đã ký của họ, ghi nhận tại đây rồi nhập lại. `,
      h("span", { class: "en" }, `${needs.length} member(s) have no recorded consent. If you hold their signed forms, record them here and import again.`)),
    h("label", { for: "face-import-consent-note" }, "Số, ngày của các phiếu đồng ý (không bắt buộc) ", h("span", { class: "en" }, "The forms' number and date (optional)")), note,
    h("p", {}, go));
}

function faceImportCard() {
  const minFace = adminMe.upload_limits.face_min_px; // the server's rule (a site may change it)
  const input = h("input", { type: "file", id: "face-zip", accept: ".zip,application/zip" });
  const problems = h("div", { id: "face-import-problems", "aria-live": "polite" });
  const send = h("button", { type: "button", id: "face-import-send", class: "primary" }, bi("Tải lên và nhập", "Upload and import"));
  const upload = (button, skip) => act(button, async () => {
    if (!input.files[0]) return toast("Chọn tệp ZIP ảnh trước.", "error", "Choose a ZIP of photos first.");
    const limit = adminMe?.upload_limits?.face_import_mb;
    if (limit && input.files[0].size > limit * 1_048_576) { // said in the card, where it stays
      return fill(problems, h("p", { class: "bad-text", id: "face-import-refused", role: "alert" }, h("b", {}, `Tệp ZIP lớn hơn ${limit} MB, mức lớn nhất máy chủ nhận: hãy chia thành nhiều tệp.`),
        " ", h("span", { class: "en" }, `The ZIP is over ${limit} MB: split it into several.`)));
    }
    fill(problems);
    const data = new FormData();
    data.append("archive", input.files[0]);
    if (skip) data.append("skip_problems", "true");
    try {
      const r = await api("POST", "/api/face-imports", data);
      input.value = "";
      const left = r.results.filter((x) => x.skipped).length; // folders left out, reported at once
      toast(`Đã nhận ảnh của ${r.members_total - left} thành viên; đang nhập.${left ? ` Bỏ qua ${left} thư mục lỗi.` : ""}`, "ok",
        `Photos of ${r.members_total - left} members received; importing.${left ? ` ${left} folder(s) with problems left out.` : ""}`);
    } catch (err) {
      if (!err.details?.problems) { // the archive itself (not a ZIP, empty, too big): said in the card too, where it stays
        if (!(err instanceof ApiError) || !err.status || err.status >= 500) throw err;
        fill(problems, h("p", { class: "bad-text", id: "face-import-refused", role: "alert" }, h("b", {}, err.message), " ", h("span", { class: "en" }, err.messageEn)));
        problems.scrollIntoView({ block: "nearest" });
        return;
      }
      const total = err.details.problems_total ?? err.details.problems.length, more = total - err.details.problems.length;
      // problems of members' folders only: those folders can be left out and the others imported now
      const folders = new Set(err.details.problems.map((p) => p.folder));
      // … and only when some folder would be left to import (else the same refusal again: a walk-through's dead end)
      const skippable = !folders.has(null) && !folders.has(undefined) && more <= 0 && (err.details.importable ?? 1) > 0;
      const skipButton = skippable ? h("button", { type: "button", id: "face-import-skip" }, `Bỏ qua ${folders.size} thư mục lỗi, nhập những người còn lại `, h("span", { class: "en" }, `Skip ${folders.size} folder(s) with problems, import the rest`)) : null;
      skipButton?.addEventListener("click", () => upload(skipButton, true));
      const none = err.details.importable === 0;
      const needs = err.details.problems.map((p) => p.needs_consent).filter(Boolean);
      fill(problems, h("p", { class: "bad-text" }, h("b", {}, `${total} lỗi — chưa nhập gì; sửa tệp rồi tải lên lại${skippable ? ", hoặc bỏ qua những thư mục lỗi" : ""}.`), " ",
        h("span", { class: "en" }, `${total} problem(s): nothing imported; fix the archive and upload it again${skippable ? ", or leave out the folders with problems" : ""}.`)),
        none ? h("p", { id: "face-import-none" }, "Không còn thư mục nào hợp lệ để nhập. ", h("span", { class: "en" }, "No folder is left that could be imported.")) : null,
        h("ul", { class: "plain" }, err.details.problems.map((p) => h("li", {}, h("b", {}, p.where), ": ", p.message_vi, h("div", { class: "en" }, p.message_en)))),
        more > 0 ? h("p", { class: "muted" }, `… và ${more} lỗi khác (hiện ${err.details.problems.length} lỗi đầu). `, h("span", { class: "en" }, `and ${more} more.`)) : null,
        needs.length ? consentForImport(needs, () => upload(send, false)) : null,
        skipButton ? h("p", {}, skipButton) : null);
      problems.scrollIntoView({ block: "nearest" });
      return;
    }
    fill(problems);
    await renderFaceImports();
  });
  send.addEventListener("click", () => upload(send, false));
  input.addEventListener("change", () => fill(problems));
  fill($("#import-faces"), h("h2", {}, "Nhập ảnh khuôn mặt hàng loạt ", h("span", { class: "en" }, "Import face photos")),
    h("p", { class: "muted" }, "Một tệp ZIP, mỗi thành viên một thư mục đặt theo tên đăng nhập, trong đó 1–10 ảnh chân dung (JPEG, PNG, WEBP, BMP), mỗi ảnh một khuôn mặt. ",
      "Chỉ nhập cho người đã ghi nhận đồng ý sinh trắc. Ảnh tải lên được xóa khỏi máy chủ khi nhập xong. ",
      h("span", { class: "en" }, "A ZIP with one folder per member, named by username, holding 1-10 portraits (JPEG, PNG, WEBP, BMP) with one face each. Members must have consented. The uploaded photos are deleted when the import ends.")),
    h("details", { id: "face-zip-help" }, h("summary", {}, bi("Cách chuẩn bị tệp ZIP", "How to prepare the ZIP")),
      h("ul", {},
        h("li", {}, "Ví dụ: ", h("code", {}, "AnhDaiBieu.zip › daibieu01 › anh1.jpg, anh2.jpg"), ", ", h("code", {}, "… › daibieu02 › chan-dung.png"), ". Có thể có thêm một thư mục ngoài cùng."),
        h("li", {}, "Tên thư mục là tên đăng nhập (cột “Tên đăng nhập” trong danh sách thành viên), không phải họ tên."),
        h("li", {}, "Trên Windows: chọn thư mục ảnh, bấm chuột phải › Gửi tới › Thư mục nén (zipped). Tối đa ", String(adminMe?.upload_limits?.face_import_mb ?? 200), " MB mỗi tệp; nhiều người thì chia thành nhiều tệp."),
        h("li", {}, `Ảnh tốt: chụp chính diện, đủ sáng, rõ nét, chỉ một người trong ảnh, khuôn mặt rộng ít nhất ${minFace} điểm ảnh.`),
        h("li", {}, "Nhập lại cùng ảnh không tạo bản trùng: ảnh đã có được bỏ qua. Ảnh không dùng được được nêu tên; các ảnh khác của người đó vẫn được nhập.")),
      h("p", { class: "en" }, `Example: AnhDaiBieu.zip › daibieu01 › anh1.jpg. Folders are usernames, not full names. On Windows: right-click the folder › Send to › Compressed (zipped) folder. Good photos: frontal, well lit, sharp, one person, face at least ${minFace} px wide. Importing the same photos again adds no duplicates.`)),
    h("label", { for: "face-zip" }, bi("Tệp ZIP ảnh", "ZIP of photos")), input,
    h("p", {}, send), problems, h("div", { id: "face-imports" }));
  return renderFaceImports();
}

async function renderFaceImports() {
  clearTimeout(faceImportTimer);
  const list = await api("GET", "/api/face-imports");
  const box = $("#face-imports");
  if (!box) return;
  fill(box, list.length ? h("ul", { class: "plain" }, list.map(faceImportItem)) : null);
  if (list.some((i) => i.state === "queued" || i.state === "running")) faceImportTimer = setTimeout(() => renderFaceImports().catch(showError), 2000);
  // the member whose card is open was just imported: the card shows the new photos (walk-through)
  const mine = shownMember && list.flatMap((i) => i.results).filter((r) => r.member_id === shownMember.id).length;
  if (shownMember && shownImports !== null && mine !== shownImports) await showMember(shownMember);
  shownImports = shownMember ? mine : null;
}

function faceImportItem(i) {
  const active = i.state === "queued" || i.state === "running";
  const stop = active ? h("button", { type: "button", class: "danger", dataset: { stop: i.id } }, "Dừng ", h("span", { class: "en" }, "Stop")) : null;
  stop?.addEventListener("click", () => act(stop, async () => {
    if (!confirm("Dừng lượt nhập ảnh này? Những người đã nhập xong vẫn giữ ảnh; ảnh còn lại bị xóa khỏi máy chủ.\n\nStop this import? Members already done keep their photos; the rest are deleted from the server.")) return;
    await api("POST", `/api/face-imports/${i.id}/stop`);
    await renderFaceImports();
  }));
  const bad = (r) => (!r.enrolled && !r.known) || r.error_vi;
  const failed = i.results.filter(bad);
  const refused = i.results.reduce((n, r) => n + r.refused.length, 0);
  const results = [...failed, ...i.results.filter((r) => !bad(r))]; // who needs attention first
  // finished with members left without a photo is not a green "done" (a walk-through took it for one)
  const [vi, en, kind] = i.state === "done" && (failed.length || i.not_done.length) ? ["Xong, có người lỗi", "Done, with problems", "warn"]
    : IMPORT_STATE[i.state] || [i.state, i.state, ""];
  const named = (p, m) => (m.includes(p.photo) ? m : `${p.photo}: ${m}`); // the file's name once
  return h("li", { class: "face-import", dataset: { import: i.id, state: i.state } },
    h("div", { class: "row" }, h("span", { class: `badge ${kind}` }, vi, " ", h("span", { class: "en" }, en)), h("b", {}, i.filename), h("span", { class: "muted" }, fmtDateTime(i.created_at)), stop),
    h("progress", { max: i.members_total, value: i.members_done, "aria-label": "Tiến độ nhập ảnh / Import progress" }),
    h("p", { class: "import-progress" }, `${i.members_done}/${i.members_total} thành viên · ${i.photos_enrolled}/${i.photos_total} ảnh đã đăng ký`,
      failed.length ? ` · ${failed.length} người lỗi` : "", refused ? ` · ${refused} ảnh bị từ chối` : "", i.photos_known ? ` · ${i.photos_known} ảnh đã có từ trước` : "", " ",
      h("span", { class: "en" }, `${i.members_done}/${i.members_total} members, ${i.photos_enrolled}/${i.photos_total} photos enrolled`,
        failed.length ? `, ${failed.length} member(s) failed` : "", refused ? `, ${refused} photo(s) refused` : "", i.photos_known ? `, ${i.photos_known} already enrolled` : "")),
    failed.length ? h("p", { class: "bad-text" }, `Cần xem lại: ${failed.map((r) => r.full_name).join(", ")}`, " ", h("span", { class: "en" }, "Needs attention")) : null,
    i.state === "queued" && i.tries === 0 ? h("p", { class: "muted" }, "Đang chờ đến lượt xử lý. ", h("span", { class: "en" }, "Waiting for its turn.")) : null,
    i.state === "running" && i.not_done.length ? h("p", { class: "muted now-importing" }, `Đang nhập: ${i.not_done[0]}`,
      i.not_done.length > 1 ? ` · còn ${i.not_done.length - 1} người chờ` : "", " ", h("span", { class: "en" }, `Now importing: ${i.not_done[0]}`)) : null,
    !active && i.not_done.length ? h("p", { class: "bad-text not-done" }, `Chưa nhập (${i.not_done.length}): ${i.not_done.join(", ")} — hãy tải lên lại ảnh của những người này. `,
      h("span", { class: "en" }, "Not imported: upload these members' photos again.")) : null,
    i.error ? h("p", { class: "bad-text" }, i.error) : null, // the job's own message, as the server gave it
    results.length ? h("details", { open: active || failed.length > 0 || refused > 0 }, h("summary", {}, bi("Kết quả từng người", "Each member's result")),
      h("ul", { class: "plain" }, results.map((r) => h("li", { dataset: { folder: r.folder } },
        h("b", {}, r.full_name), r.full_name === r.folder ? ": " : ` (${r.folder}): `,
        r.error_vi ? [h("span", { class: "bad-text" }, r.error_vi), " ", h("span", { class: "en" }, r.error_en)]
          : r.enrolled ? [`${r.enrolled} ảnh đã đăng ký`, r.known ? `, ${r.known} ảnh đã có từ trước (bỏ qua)` : "", " ", h("span", { class: "en" }, `${r.enrolled} enrolled${r.known ? `, ${r.known} already there (skipped)` : ""}`)]
          : [h("span", { class: "bad-text" }, r.known ? `mọi ảnh đã có từ trước (${r.known})` : "không ảnh nào dùng được"), " ", h("span", { class: "en" }, r.known ? "all already enrolled" : "no usable photo")],
        r.refused.map((p) => h("div", { class: "muted" }, named(p, p.message_vi), " ", h("span", { class: "en" }, named(p, p.message_en)))))))) : null);
}

// The browser camera: a live preview and a button that takes a JPEG still.
function cameraCapture(onPhoto) {
  const video = h("video", { autoplay: true, playsinline: true, muted: true, width: 320 });
  const start = h("button", { type: "button" }, icon("camera"), " ", ...bi("Bật máy ảnh", "Start camera"));
  const snap = h("button", { type: "button", disabled: true }, bi("Chụp ảnh", "Take photo"));
  start.addEventListener("click", () => act(start, async () => {
    if (!navigator.mediaDevices?.getUserMedia) return toast("Trình duyệt không cho dùng máy ảnh (cần HTTPS hoặc localhost).", "error", "This browser blocks the camera (HTTPS or localhost needed).");
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
    await video.play();
    snap.disabled = false;
  }));
  snap.addEventListener("click", () => {
    if (!video.videoWidth) return toast("Máy ảnh chưa sẵn sàng, thử lại sau giây lát.", "error", "The camera is not ready yet.");
    const canvas = h("canvas", { class: "snap", width: video.videoWidth, height: video.videoHeight });
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => onPhoto(new File([blob], `camera-${Date.now()}.jpg`, { type: "image/jpeg" })), "image/jpeg", 0.92);
  });
  return h("div", {}, video, h("div", { class: "row" }, start, snap));
}

// The microphone: records a reading with MediaRecorder (WebM/Opus, which the server decodes).
function voiceRecorder(onAudio) {
  const idle = () => [icon("mic"), " ", ...bi("Ghi âm giọng đọc", "Record a voice sample")];
  const button = h("button", { type: "button" }, idle());
  let recorder = null;
  button.addEventListener("click", () => act(null, async () => {
    if (recorder) { recorder.stop(); return; }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = () => { stream.getTracks().forEach((t) => t.stop()); recorder = null; fill(button, idle()); onAudio(new File(chunks, `voice-${Date.now()}.webm`, { type: "audio/webm" })); };
    recorder.start();
    fill(button, "⏹ ", ...bi("Dừng ghi (đọc 20–60 giây)", "Stop (read 20–60 s)"));
  }));
  return button;
}

async function showMember(m) {
  const el = $("#member-detail");
  const minSpeech = adminMe?.upload_limits?.voice_min_speech_s; // the server's rule, said before the first try
  if (shownMember?.id !== m.id) shownImports = null; // counted afresh at the next look
  shownMember = m;
  const turn = ++memberShown; // a card asked for later (another tap, a redraw) wins over this one's late answer
  let bio;
  try { bio = await api("GET", `/api/members/${m.id}/biometrics`); } catch (err) { return turn === memberShown ? showError(err) : undefined; }
  if (turn !== memberShown) return;
  const photos = [];
  const photoList = h("ul", { id: "photo-list" });
  const addPhoto = (file) => { photos.push(file); photoList.append(h("li", {}, file.name)); };
  const fileInput = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/bmp,.jpg,.jpeg,.png,.webp,.bmp", multiple: true, id: "face-files" });
  fileInput.addEventListener("change", () => { for (const f of fileInput.files) addPhoto(f); fileInput.value = ""; });
  const sendPhotos = h("button", { type: "button", class: "primary", disabled: !bio.consent }, bi("Đăng ký khuôn mặt", "Enrol face photos"));
  sendPhotos.addEventListener("click", () => {
    if (!photos.length) return toast("Chưa có ảnh nào: chọn tệp hoặc chụp bằng máy ảnh.", "error", "No photo yet.");
    const data = new FormData();
    for (const p of photos) data.append("photo", p);
    act(sendPhotos, async () => { const r = await api("POST", `/api/members/${m.id}/faces`, data); toast(`Đã đăng ký ${r.length} ảnh khuôn mặt.`, "ok", `${r.length} face photo(s) enrolled.`); await showMember(m); });
  });
  const uploadVoice = (file) => {
    const data = new FormData();
    data.append("audio", file);
    act(null, async () => { const r = await api("POST", `/api/members/${m.id}/voice`, data); toast(`Đã đăng ký giọng nói (${r.speech_s.toFixed(0)} giây lời nói).`, "ok", `Voice enrolled (${r.speech_s.toFixed(0)} s of speech).`); await showMember(m); });
  };
  const voiceFile = h("input", { type: "file", accept: "audio/*,video/*", id: "voice-file" });
  voiceFile.addEventListener("change", () => { if (voiceFile.files[0]) uploadVoice(voiceFile.files[0]); voiceFile.value = ""; });
  const consent = h("button", { type: "button", class: bio.consent ? "danger" : "primary" }, bio.consent ? bi("Rút lại đồng ý", "Withdraw consent") : bi("Ghi nhận đồng ý (văn bản đã ký)", "Record consent (signed form)"));
  consent.addEventListener("click", () => act(consent, async () => {
    const held = [bio.faces.length ? `${bio.faces.length} ảnh khuôn mặt` : "", bio.voices.length ? `${bio.voices.length} mẫu giọng nói` : ""].filter(Boolean).join(" và ");
    const heldEn = [bio.faces.length ? `${bio.faces.length} face photo(s)` : "", bio.voices.length ? `${bio.voices.length} voice sample(s)` : ""].filter(Boolean).join(" and ");
    if (bio.consent && !confirm(`Rút lại đồng ý của ${m.full_name}? ${held ? `Toàn bộ ${held} đã đăng ký sẽ bị xóa ngay, không khôi phục được.` : ""}\n\nWithdraw ${m.full_name}'s consent? ${held ? `Their ${heldEn} are deleted at once, for good.` : ""}`)) return;
    const note = bio.consent ? null : ($("#consent-note")?.value || "").trim() || null;
    await api("PUT", `/api/members/${m.id}/biometric-consent`, { given: !bio.consent, note });
    toast(bio.consent ? `Đã rút lại đồng ý của ${m.full_name}${held ? `; đã xóa ${held}` : ""}.` : `Đã ghi nhận đồng ý của ${m.full_name}.`, "ok",
      bio.consent ? "Consent withdrawn; biometric data deleted." : "Consent recorded.");
    await showMember(m);
  }));
  const cert = h("form", { id: "cert-form" },
    h("label", { for: "cert-file" }, bi("Tệp chứng thư số (.p12/.pfx)", "Certificate file (.p12/.pfx)")), h("input", { type: "file", id: "cert-file", name: "file", accept: ".p12,.pfx,application/x-pkcs12", required: true }),
    h("label", { for: "cert-pass" }, bi("Mật khẩu của tệp (chỉ dùng để kiểm tra, không lưu)", "The file's password (checked, never stored)")), h("input", { type: "password", id: "cert-pass", name: "passphrase", autocomplete: "off" }),
    h("button", { type: "submit" }, bi("Đăng ký chứng thư số", "Register the certificate")));
  cert.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(ev.submitter, async () => {
      const r = await api("POST", `/api/members/${m.id}/certificate`, new FormData(cert));
      toast(`Đã đăng ký chứng thư của ${r.common_name}, hạn đến ${fmtDateTime(r.not_after)}.`, "ok", `Certificate of ${r.common_name} registered, valid until ${fmtDateTime(r.not_after)}.`);
      cert.reset();
      await renderCertificates();
      await showMember(m);
    });
  });
  const mine = signers.find((c) => c.member_id === m.id);
  const back = h("button", { type: "button", id: "member-back", "aria-label": "Về danh sách thành viên / Back to the list" }, "↑ Danh sách ", h("span", { class: "en" }, "List"));
  back.addEventListener("click", () => {
    const row = $(`#member-list tr[data-member="${CSS.escape(m.id)}"]`);
    (row && !row.hidden ? row : $("#members")).scrollIntoView({ block: "center" });
  });
  fill(el, h("div", { class: "row" }, h("h2", { class: "grow" }, m.full_name), back), m.username ? h("p", { class: "muted" }, `Tên đăng nhập: ${m.username} `, h("span", { class: "en" }, "(username)")) : null, accountBlock(m),
    h("p", {}, "Đồng ý sinh trắc học ", h("span", { class: "en" }, "Biometric consent"), ": ",
      h("b", {}, bio.consent ? [`có (từ ${fmtDateTime(bio.consent_at)}) `, h("span", { class: "en" }, "given")] : bi("chưa có", "not given")),
      bio.consent && bio.consent_note ? h("span", { id: "consent-form" }, ` — ${bio.consent_note}`) : null, " ", consent),
    bio.consent ? null : h("div", {}, h("label", { for: "consent-note" }, "Số, ngày của phiếu đồng ý đã ký (không bắt buộc) ", h("span", { class: "en" }, "The signed form's number and date (optional)")),
      h("input", { id: "consent-note", maxlength: 200, autocomplete: "off", placeholder: "Phiếu số 12/2026, ký ngày 20/11/2026" })),
    h("h3", {}, `Khuôn mặt (${bio.faces.length} ảnh đã đăng ký) `, h("span", { class: "en" }, `Face: ${bio.faces.length} photo(s)`)),
    bio.consent ? [fileInput, cameraCapture(addPhoto), photoList, sendPhotos] : h("p", { class: "muted" }, ...bi("Cần ghi nhận đồng ý trước khi đăng ký khuôn mặt và giọng nói.", "Record consent before enrolling a face or voice.")),
    h("h3", {}, `Giọng nói (${bio.voices.length} mẫu) `, h("span", { class: "en" }, `Voice: ${bio.voices.length} sample(s)`)),
    bio.consent ? [h("p", { class: "muted", id: "voice-help" }, `Người này đọc rõ một đoạn văn 20–60 giây ở nơi yên tĩnh${minSpeech ? ` (cần ít nhất ${minSpeech} giây lời nói)` : ""}; ghi âm tại đây hoặc chọn tệp WAV, MP3, OGG, M4A. Chọn tệp là đăng ký ngay. `,
      h("span", { class: "en" }, `They read a text aloud for 20-60 s somewhere quiet${minSpeech ? ` (at least ${minSpeech} s of speech)` : ""}; record here or choose a WAV, MP3, OGG or M4A file. Choosing a file enrols it at once.`)),
      h("div", { class: "row" }, voiceFile, voiceRecorder(uploadVoice))] : null,
    bio.faces.length || bio.voices.length ? h("p", {}, h("button", { type: "button", class: "danger", onclick: (ev) => act(ev.currentTarget, async () => { await api("DELETE", `/api/members/${m.id}/biometrics`); await showMember(m); }) }, bi("Xóa toàn bộ dữ liệu sinh trắc", "Delete all biometric data"))) : null,
    h("h3", {}, bi("Chứng thư số ký biên bản", "Signing certificate")),
    h("p", { id: "member-cert" }, mine ? [`Đã đăng ký: ${mine.common_name} (${mine.issuer}), hạn đến ${fmtDateTime(mine.not_after)} `, certBadge(mine)] : bi("Chưa có chứng thư.", "None yet.")),
    cert);
}

async function renderRooms() {
  const rooms = await api("GET", "/api/rooms");
  const form = h("form", { id: "room-form" },
    h("label", { for: "room-name" }, bi("Tên phòng", "Room name")), h("input", { id: "room-name", name: "name", required: true }),
    h("label", { for: "room-loc" }, bi("Vị trí", "Location")), h("input", { id: "room-loc", name: "location" }),
    h("label", { for: "room-seats" }, bi("Ghế (cách nhau bởi dấu phẩy)", "Seats, comma-separated")), h("input", { id: "room-seats", name: "seats", placeholder: "A1, A2, A3" }),
    h("p", {}, h("button", { type: "submit" }, bi("Thêm phòng họp", "Add room"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { name: f.get("name"), seats: seatLabels(f.get("seats")) };
    if (String(f.get("location")).trim()) body.location = f.get("location");
    act(ev.submitter, async () => { await api("POST", "/api/rooms", body); await renderRooms(); });
  });
  fill($("#rooms"), h("h2", {}, "Phòng họp ", h("span", { class: "en" }, "Rooms")),
    h("ul", { class: "plain", id: "room-list" }, rooms.map((r) => h("li", { dataset: { room: r.id } }, h("b", {}, r.name), r.location ? ` — ${r.location}` : "",
      h("div", { class: "muted" }, `${r.seats.length} ghế: ${r.seats.map((s) => s.label).join(", ")} `, h("span", { class: "en" }, `${r.seats.length} seat(s)`)), roomEditor(r)))),
    form);
}

const seatLabels = (text) => String(text || "").split(",").map((s) => s.trim()).filter(Boolean);

// One room: rename, move, relabel its seats (a label kept keeps its seat) and who usually sits where.
function roomEditor(room) {
  const form = h("form", { class: "room-edit" },
    h("label", {}, bi("Tên phòng", "Room name"), h("input", { name: "name", required: true, value: room.name })),
    h("label", {}, bi("Vị trí", "Location"), h("input", { name: "location", value: room.location || "" })),
    h("label", {}, bi("Ghế (cách nhau bởi dấu phẩy)", "Seats, comma-separated"), h("input", { name: "seats", value: room.seats.map((s) => s.label).join(", ") })),
    h("p", {}, h("button", { type: "submit", class: "primary" }, bi("Lưu phòng họp", "Save room"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { name: f.get("name"), seats: seatLabels(f.get("seats")) };
    if (String(f.get("location")).trim()) body.location = String(f.get("location")).trim();
    act(ev.submitter, async () => { await api("PATCH", `/api/rooms/${room.id}`, body); toast("Đã lưu phòng họp.", "ok", "Room saved."); await renderRooms(); });
  });
  const people = members.filter((m) => m.active && !m.roles.includes("guest"));
  const seats = h("table", { class: "seat-map" }, h("thead", {}, h("tr", {}, h("th", {}, bi("Ghế", "Seat")), h("th", {}, bi("Người thường ngồi", "Usual occupant")))),
    h("tbody", {}, room.seats.map((s) => {
      const pick = h("select", { "aria-label": `Người thường ngồi ghế ${s.label}`, dataset: { seat: s.label } }, h("option", { value: "" }, "— Trống / Empty —"),
        people.map((m) => h("option", { value: m.id, selected: m.id === s.member_id }, m.full_name)));
      pick.addEventListener("change", () => act(pick, async () => {
        try { await api("PUT", `/api/rooms/${room.id}/seats/${s.id}/occupant`, { member_id: pick.value || null }); toast(`Ghế ${s.label}: đã lưu.`, "ok", `Seat ${s.label} saved.`); }
        catch (err) { pick.value = s.member_id || ""; throw err; }
        s.member_id = pick.value || null;
      }));
      return h("tr", {}, h("td", {}, s.label), h("td", {}, pick));
    })));
  return h("details", { class: "room-editor" }, h("summary", { class: "button" }, bi("Sửa phòng, ghế và chỗ ngồi", "Edit room and seats")), form, room.seats.length ? seats : null);
}

// --- bodies ------------------------------------------------------------------------------------

// What a body is names its members (đại biểu in a council) and sets the rule a new vote starts with.
const BODY_KINDS = {
  council: ["Hội đồng nhân dân", "People's Council"],
  committee: ["Ủy ban nhân dân", "People's Committee"],
  other: ["Cơ quan khác (sở, ban, ngành…)", "Other body (department, board…)"],
};

// A new body's kind follows its name until the administrator picks one (a walk-through's "Hội đồng nhân
// dân huyện" was saved as "other", and its votes got the default rule of a department)
const KIND_BY_NAME = [[/^hội đồng nhân dân/i, "council"], [/^ủy ban nhân dân|^uỷ ban nhân dân/i, "committee"]];

function bodyFields(prefix, b) {
  const kind = h("select", { id: `${prefix}-kind`, name: "kind", onchange: () => { kind.dataset.picked = "yes"; } },
    Object.entries(BODY_KINDS).map(([k, [vi, en]]) => h("option", { value: k, selected: (b?.kind || "other") === k }, `${vi} / ${en}`)));
  const name = h("input", { id: `${prefix}-name`, name: "name", required: true, maxlength: 255, value: b?.name || "", placeholder: "Hội đồng nhân dân tỉnh …",
    oninput: () => {
      if (b || kind.dataset.picked) return; // an existing body's kind, or one chosen by hand, stays
      kind.value = KIND_BY_NAME.find(([re]) => re.test(name.value.normalize("NFC").trim()))?.[1] || "other";
    } });
  return [
    h("label", { for: `${prefix}-name` }, bi("Tên cơ quan", "Name")),
    name,
    h("label", { for: `${prefix}-short` }, bi("Tên viết tắt", "Short name")),
    h("input", { id: `${prefix}-short`, name: "short_name", required: true, maxlength: 32, value: b?.short_name || "", placeholder: "HĐND tỉnh" }),
    h("label", { for: `${prefix}-parent` }, bi("Cơ quan cấp trên (in trên biên bản)", "Parent body (printed on the minutes)")),
    h("input", { id: `${prefix}-parent`, name: "parent_name", maxlength: 255, value: b?.parent_name || "" }),
    h("label", { for: `${prefix}-kind` }, bi("Loại cơ quan (đặt quy tắc biểu quyết mặc định)", "Kind (sets the default voting rule)")),
    kind,
  ];
}

function bodyBody(form) {
  const f = new FormData(form);
  const body = { name: String(f.get("name")).trim(), short_name: String(f.get("short_name")).trim(), kind: f.get("kind") };
  const parent = String(f.get("parent_name") || "").trim();
  body.parent_name = parent || null;
  return body;
}

async function renderBodies() {
  bodies = await api("GET", "/api/bodies");
  const form = h("form", { id: "body-form" }, bodyFields("nb", null), h("p", {}, h("button", { type: "submit", class: "primary" }, bi("Thêm cơ quan", "Add body"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = bodyBody(form);
    if (!body.parent_name) delete body.parent_name;
    act(ev.submitter, async () => {
      const b = await api("POST", "/api/bodies", body);
      toast(`Đã thêm cơ quan ${b.name}.`, "ok", "Body added.");
      await bodiesChanged();
    });
  });
  fill($("#bodies"), h("h2", {}, "Cơ quan ", h("span", { class: "en" }, "Bodies"), " ", h("span", { class: "badge", id: "body-count" }, bodies.length)),
    bodies.length ? h("ul", { class: "plain", id: "body-list" }, bodies.map((b) => h("li", { dataset: { body: b.id } }, h("b", {}, b.name), ` (${b.short_name})`,
      h("div", { class: "muted" }, BODY_KINDS[b.kind][0], b.parent_name ? ` — ${b.parent_name}` : "", " ", h("span", { class: "en" }, BODY_KINDS[b.kind][1])), bodyEditor(b))))
      : h("p", { class: "muted", id: "body-none" }, "Chưa có cơ quan nào: hãy thêm cơ quan (ví dụ Hội đồng nhân dân tỉnh) trước khi thêm thành viên và chuẩn bị cuộc họp. ",
        h("span", { class: "en" }, "No body yet: add one (e.g. the provincial People's Council) before members and meetings.")),
    h("h3", {}, bi("Thêm cơ quan", "New body")), form);
}

function bodyEditor(b) {
  const form = h("form", { class: "body-edit" }, bodyFields(`eb-${b.id}`, b), h("p", {}, h("button", { type: "submit", class: "primary" }, bi("Lưu cơ quan", "Save body"))));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(ev.submitter, async () => {
      const r = await api("PATCH", `/api/bodies/${b.id}`, bodyBody(form));
      toast(`Đã lưu cơ quan ${r.name}.`, "ok", "Body saved.");
      await bodiesChanged();
    });
  });
  return h("details", { class: "body-editor" }, h("summary", { class: "button" }, bi("Sửa cơ quan", "Edit body")), form);
}

// A body added or renamed: the lists that offer bodies are drawn again (the new member's form keeps nothing typed).
async function bodiesChanged() {
  await renderBodies();
  newMemberForm();
  if (shownMember) await renderMembers(shownMember.id);
}

// --- devices ------------------------------------------------------------------------------------

const DEVICE_STATE = {
  starting: ["Đang khởi động", "Starting", ""], connected: ["Đã kết nối", "Connected", "ok"], lost: ["Mất kết nối", "Offline", "bad"],
  ended: ["Đã dừng", "Stopped", ""], stopped: ["Đã dừng", "Stopped", ""],
};
const KIND = { microphone: ["Micrô", "Microphone"], camera: ["Camera"], loudspeaker: ["Loa", "Loudspeaker"] };

function roomDevices(room, state) {
  if (!state.run_here) {
    return h("div", { class: "room-devices", dataset: { room: room.id } }, h("h3", {}, room.name),
      h("p", { class: "muted" }, "Máy chủ này không chạy thiết bị của phòng này: thêm tệp cấu hình phòng vào thiết lập “rooms” hoặc chạy “meeting-room run-room”. ",
        h("span", { class: "en" }, "This server does not run this room's devices: add the room's file to the \"rooms\" setting, or run \"meeting-room run-room\".")));
  }
  return h("div", { class: "room-devices", dataset: { room: room.id } },
    h("h3", {}, room.name, " ", state.live_meeting_id ? h("a", { class: "badge live", href: `/chair/${state.live_meeting_id}` }, bi("Đang họp", "In session")) : h("span", { class: "badge" }, bi("Không có cuộc họp", "No meeting"))),
    state.devices.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, bi("Thiết bị", "Device")), h("th", {}, bi("Loại", "Type")), h("th", {}, bi("Trạng thái", "Status")), h("th", {}, bi("Từ lúc", "Since")))),
      h("tbody", {}, state.devices.map((d) => {
        const [vi, en, tone] = DEVICE_STATE[d.state] || [d.state, null, ""];
        return h("tr", { dataset: { device: d.name } }, h("td", {}, d.name, d.url ? h("div", { class: "muted" }, d.url) : null),
          h("td", {}, both(...(KIND[d.kind] || [d.kind]))), h("td", {}, h("span", { class: `badge ${tone}` }, both(vi, en)), d.detail && d.state !== "connected" ? h("div", { class: "muted" }, d.detail) : null),
          h("td", {}, fmtDateTime(d.since)));
      }))) : h("p", { class: "muted" }, ...bi("Tệp cấu hình của phòng không có thiết bị nào.", "The room's file lists no devices.")));
}

function machineDevices(machine) {
  return h("details", { id: "machine-devices" }, h("summary", { class: "button" }, bi("Thiết bị âm thanh và camera gắn vào máy chủ", "Audio devices and cameras on this server")),
    h("p", { class: "muted" }, "Dùng tên hoặc số thứ tự dưới đây cho “device” trong tệp cấu hình phòng; camera IP ghi bằng địa chỉ rtsp:// hoặc http://. ",
      h("span", { class: "en" }, "Use a name or number below as \"device\" in the room's file; an IP camera by its rtsp:// or http:// address.")),
    machine.error ? h("p", { class: "badge bad" }, machine.error) : null,
    machine.audio.length ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, bi("Tên", "Name")), h("th", {}, bi("Vào / ra", "In / out")), h("th", {}, bi("Tần số", "Sample rate")))),
      h("tbody", {}, machine.audio.map((d) => h("tr", {}, h("td", {}, d.index), h("td", {}, d.name, d.default_input ? " (mặc định / default)" : ""),
        h("td", {}, `${d.input_channels} / ${d.output_channels}`), h("td", {}, `${Math.round(d.default_sample_rate)} Hz`)))))
      : h("p", { class: "muted" }, ...bi("Không thấy thiết bị âm thanh nào.", "No audio device found.")),
    h("p", {}, "Camera (V4L2): ", machine.video.length ? machine.video.join(", ") : bi("không có", "none")));
}

async function renderDevices() {
  const rooms = await api("GET", "/api/rooms");
  const [states, machine] = await Promise.all([
    Promise.all(rooms.map((r) => api("GET", `/api/rooms/${r.id}/devices`))),
    api("GET", "/api/devices").catch((err) => ({ audio: [], video: [], error: `${err.message} / ${err.messageEn}` })),
  ]);
  const again = h("button", { type: "button", id: "devices-refresh", onclick: (ev) => act(ev.currentTarget, renderDevices) }, "↻ ", ...bi("Kiểm tra lại", "Check again"));
  const open = $("#machine-devices")?.open;
  fill($("#devices"), h("div", { class: "row" }, h("h2", { class: "grow" }, "Thiết bị phòng họp ", h("span", { class: "en" }, "Room devices")), again),
    h("p", { class: "muted" }, `Trạng thái lúc ${fmtTime(new Date())}. Khi đang họp, thiết bị mất kết nối được báo ngay trên bàn điều hành của chủ tọa. `,
      h("span", { class: "en" }, `As of ${fmtTime(new Date())}. In a meeting, a lost device is reported at once on the chair's console.`)),
    rooms.map((r, i) => roomDevices(r, states[i])), machineDevices(machine));
  if (open) $("#machine-devices").open = true;
}

// --- certificates -----------------------------------------------------------------------------------

let signers = [];
const CERT_STATE = {
  valid: ["Còn hiệu lực", "Valid", "ok"], expiring: ["Sắp hết hạn", "Expiring", "bad"], expired: ["Đã hết hạn", "Expired", "bad"],
  not_yet_valid: ["Chưa có hiệu lực", "Not yet valid", "bad"],
};
const certBadge = (c) => {
  const [vi, en, tone] = CERT_STATE[c.state] || [c.state, null, ""];
  return h("span", { class: `badge ${tone}`, dataset: { state: c.state } }, both(vi, en));
};

function httpsBlock(t) {
  if (!t.https) return h("p", { id: "https" }, "HTTPS đang tắt (thiết lập https = false): micrô và camera của trình duyệt chỉ dùng được trên localhost hoặc sau một proxy HTTPS. ",
    h("span", { class: "en" }, "HTTPS is off (https = false): browsers allow microphone and camera only on localhost or behind an HTTPS proxy."));
  if (!t.fingerprint_sha256) return h("p", { id: "https" }, ...bi("Chứng thư HTTPS sẽ được cấp khi chạy “meeting-room serve”.", "The HTTPS certificate is issued when \"meeting-room serve\" starts."));
  return h("div", { id: "https" },
    h("p", {}, t.source === "configured" ? "Dùng chứng thư của cơ quan (tls_cert). " : "Chứng thư do CA nội bộ của máy chủ cấp. ",
      t.not_after ? `Hạn đến ${fmtDateTime(t.not_after)}. ` : "",
      h("span", { class: "en" }, t.source === "configured" ? "The body's own certificate (tls_cert)." : "Issued by this server's own CA.", t.not_after ? ` Valid until ${fmtDateTime(t.not_after)}.` : "")),
    t.ca_url ? h("p", {}, h("a", { class: "button", href: t.ca_url, download: "phong-hop-ca.crt" }, icon("download"), " Tải CA nội bộ để cài trên máy tính bảng ", h("span", { class: "en" }, "Download the CA for the tablets")),
      h("span", { class: "muted" }, " Cài một lần trên mỗi thiết bị: Windows → Trusted Root Certification Authorities; iOS/macOS → Tin cậy; Android → Cài chứng chỉ CA. ",
        h("span", { class: "en" }, "Install once on each device: Windows → Trusted Root Certification Authorities; iOS/macOS → Trust; Android → Install a CA certificate."))) : null,
    h("p", {}, "Dấu vân tay SHA-256 (so với màn hình khởi động máy chủ) ", h("span", { class: "en" }, "SHA-256 fingerprint (compare with the server's start-up screen)"), ": ", h("code", { id: "tls-fingerprint", class: "wrap" }, t.fingerprint_sha256)),
    h("p", { class: "muted" }, "Tên và địa chỉ được chứng thực ", h("span", { class: "en" }, "Names and addresses certified"), `: ${t.names.join(", ")}`));
}

async function renderCertificates() {
  const [t, list] = await Promise.all([api("GET", "/api/tls"), api("GET", "/api/certificates")]);
  signers = list;
  fill($("#certificates"), h("h2", {}, "Chứng thư số ", h("span", { class: "en" }, "Certificates")),
    h("h3", {}, bi("HTTPS của máy chủ", "Server HTTPS")), httpsBlock(t),
    h("h3", {}, bi("Chứng thư ký biên bản", "Signing certificates")),
    list.length ? h("table", { id: "signer-certificates" }, h("thead", {}, h("tr", {}, h("th", {}, bi("Người ký", "Signer")), h("th", {}, bi("Chứng thư", "Certificate")), h("th", {}, bi("Hạn", "Valid until")))),
      h("tbody", {}, list.map((c) => h("tr", { dataset: { member: c.member_id } }, h("td", {}, c.full_name),
        h("td", {}, c.common_name, h("div", { class: "muted" }, c.issuer)), h("td", {}, fmtDateTime(c.not_after), " ", certBadge(c))))))
      : h("p", { class: "muted" }, ...bi("Chưa đăng ký chứng thư nào: chọn một thành viên ở trên để đăng ký tệp .p12 của họ.", "No certificate yet: open a member above to register their .p12 file.")));
}

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  adminMe = me;
  header(me, ["Quản trị hệ thống", "Administration"], "admin");
  try {
    await renderBodies();
    newMemberForm();
    importCard();
    await renderMembers();
    await faceImportCard();
    await Promise.all([renderRooms(), renderDevices(), renderCertificates()]);
  } catch (err) { showError(err); }
})();
