// The secretary prepares a meeting by tap: details, participants, agenda with its documents, the
// invitations, or its cancellation. Every rule stays in the API: the page sends, and shows each
// error the API gives (Vietnamese, then English) next to the field or section it concerns.
import { ApiError, api, bi, fieldDay, fill, fmtDateTime, h, header, icon, readBack, sendFile, toast, twoTaps, whoAmI, $ } from "/static/app.js";
import { mountSeats } from "/static/seats.js";
import { readHere } from "/static/viewer.js"; // the secretary checks a document without leaving the editor

const ROLE_LABEL = { chair: ["Chủ tọa", "Chair"], secretary: ["Thư ký", "Secretary"], member: ["Thành viên", "Member"], guest: ["Khách mời", "Guest"] };
const TZ_OFFSET = "+07:00"; // Vietnam keeps one offset all year: the times typed here are Vietnamese times

const state = { me: null, meeting: null, bodies: [], rooms: [], bodyMembers: [], participants: [], agenda: [], uploads: new Map() };
const idFromPath = () => { const part = location.pathname.split("/")[2]; return part && part !== "new" ? decodeURIComponent(part) : null; };

// ---- errors in place ------------------------------------------------------------------------

const errorSlot = (id) => h("p", { class: "field-error", id, role: "alert", hidden: true });
function showAt(slot, err) {
  if (!(err instanceof ApiError)) {
    console.error(err);
    err = { message: "Đã có lỗi trên trang. Tải lại trang rồi thử lại.", messageEn: String(err) };
  }
  slot.replaceChildren(h("span", {}, err.message), h("span", { class: "en" }, err.messageEn));
  slot.hidden = false;
  bringIntoView(slot);
}

// A message next to a field the user cannot see (the button is at the bottom of a phone's screen)
// is a tap that did nothing: show it, and put the cursor in its field.
function bringIntoView(slot) {
  const box = slot.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) slot.scrollIntoView({ block: "center" });
  const field = slot.closest(".field")?.querySelector("input, select, textarea");
  if (field && document.activeElement !== field) field.focus({ preventScroll: true });
}
function clearAt(...slots) { for (const s of slots) if (s) { s.hidden = true; s.replaceChildren(); } }

// The request field an error names (a validation error's fields, or a domain error's details).
function fieldsOf(err) {
  const d = (err && err.details) || {};
  const names = (d.fields || []).map((f) => String(f.field).split(".")[0]);
  if (d.field) names.push(d.field);
  if (d.ends_at) names.push("ends_at");
  return names;
}

// Run an action from a button: disabled while it runs; an error goes to ``slot``.
async function run(button, slot, fn) {
  if (button) button.disabled = true;
  clearAt(slot);
  try { return await fn(); } catch (err) { showAt(slot, err); return undefined; } finally { if (button && button.isConnected) button.disabled = false; }
}

const labelled = (id, vi, en, control, slot) => h("div", { class: "field" }, h("label", { for: id }, vi, " ", h("span", { class: "en" }, en)), control, slot);

// ---- time in Vietnam -------------------------------------------------------------------------

function vnParts(iso) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}
const toIso = (date, time) => (date && time ? `${date}T${time}:00${TZ_OFFSET}` : undefined);

// ---- details ---------------------------------------------------------------------------------

const DETAIL_FIELDS = { body_id: "body", title: "title", room_id: "room", starts_at: "start", ends_at: "end", chair_id: "chair", secretary_id: "secretary" };

async function loadBodyMembers(bodyId) {
  state.bodyMembers = bodyId ? await api("GET", `/api/members?body_id=${encodeURIComponent(bodyId)}&active=true`) : [];
}

// Who fits each seat comes first, by standing role: a chair from the chairs and then the delegates; a
// secretary from the secretaries and clerks. The rest follow apart (a walk-through's secretary had the
// office's clerks and the administrator mixed in with the chairs).
const SEAT_ROLES = { chair: [["chair"], ["member"]], secretary: [["secretary", "clerk"], ["member", "chair"]] };
const SEAT_GROUPS = { chair: ["Chủ tọa", "Đại biểu / thành viên"], secretary: ["Thư ký, văn thư", "Đại biểu / thành viên"] };

function personOptions(selected, none, seat) {
  const option = (m) => h("option", { value: m.id, selected: m.id === selected }, m.full_name + (m.title ? ` — ${m.title}` : ""));
  const [first, second] = SEAT_ROLES[seat];
  const fits = (m, roles) => m.roles.some((r) => roles.includes(r));
  const groups = [state.bodyMembers.filter((m) => fits(m, first)), state.bodyMembers.filter((m) => !fits(m, first) && fits(m, second))];
  const others = state.bodyMembers.filter((m) => !groups.flat().includes(m));
  return [h("option", { value: "" }, none),
    ...groups.map((list, i) => (list.length ? h("optgroup", { label: SEAT_GROUPS[seat][i] }, list.map(option)) : null)),
    others.length ? h("optgroup", { label: "Người khác / Others" }, others.map(option)) : null];
}

function renderDetails() {
  const m = state.meeting;
  const slots = Object.fromEntries(Object.values(DETAIL_FIELDS).map((k) => [k, errorSlot(`err-${k}`)]));
  const general = errorSlot("err-details");
  const when = m ? { start: vnParts(m.starts_at), end: m.ends_at ? vnParts(m.ends_at) : null } : null;
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const body = h("select", { id: "f-body", disabled: Boolean(m) }, state.bodies.map((b) => h("option", { value: b.id, selected: b.id === (m ? m.body_id : state.me.body_id) }, b.name)));
  const title = h("input", { id: "f-title", type: "text", maxlength: 500, autocomplete: "off", value: m ? m.title : "" });
  const room = h("select", { id: "f-room" }, h("option", { value: "" }, "— Chưa chọn phòng / No room —"),
    state.rooms.map((r) => h("option", { value: r.id, selected: m && r.id === m.room_id }, r.name + (r.location ? ` (${r.location})` : ""))));
  const date = h("input", { id: "f-date", type: "date", value: when ? when.start.date : tomorrow });
  const start = h("input", { id: "f-start", type: "time", value: when ? when.start.time : "08:00" });
  const end = h("input", { id: "f-end", type: "time", value: when ? (when.end ? when.end.time : "") : "11:00" });
  const chair = h("select", { id: "f-chair" }, personOptions(m ? m.chair_id : null, "— Chọn chủ tọa / Choose —", "chair"));
  const secretary = h("select", { id: "f-secretary" }, personOptions(m ? m.secretary_id : state.me.id, "— Chọn thư ký / Choose —", "secretary"));
  body.addEventListener("change", async () => {
    await run(null, general, () => loadBodyMembers(body.value));
    fill(chair, personOptions(chair.value, "— Chọn chủ tọa / Choose —", "chair"));
    fill(secretary, personOptions(secretary.value, "— Chọn thư ký / Choose —", "secretary"));
  });
  const inviteAll = m ? null : h("input", { type: "checkbox", id: "f-invite-all" });
  const save = h("button", { type: "submit", class: "primary", id: "save-details" }, m ? "Lưu thay đổi" : "Tạo cuộc họp", " ", h("span", { class: "en" }, m ? "Save" : "Create"));
  const form = h("form", { id: "details-form", novalidate: true },
    labelled("f-body", "Cơ quan", "Body", body, slots.body),
    labelled("f-title", "Tên cuộc họp", "Title", title, slots.title),
    labelled("f-room", "Phòng họp", "Room", room, slots.room),
    h("div", { class: "when" },
      labelled("f-date", "Ngày họp", "Date", date, null),
      labelled("f-start", "Bắt đầu", "Starts", start, slots.start),
      labelled("f-end", "Kết thúc", "Ends", end, slots.end)),
    readBack([date, start, end], () => {
      const day = fieldDay(date.value);
      return day && [`${day[0]}${start.value ? `, ${start.value}${end.value ? `–${end.value}` : ""}` : ""}`, day[1]];
    }),
    h("div", { class: "pair" },
      labelled("f-chair", "Chủ tọa", "Chair", chair, slots.chair),
      labelled("f-secretary", "Thư ký", "Secretary", secretary, slots.secretary)),
    inviteAll ? h("label", { class: "check", for: "f-invite-all" }, inviteAll, h("span", {}, "Mời tất cả thành viên đang hoạt động của cơ quan ", h("span", { class: "en" }, "Invite every active member of the body"))) : null,
    general,
    h("div", { class: "row actions" }, save));
  let pastConfirmed = null; // a start already past, confirmed by a second tap (a meeting entered after it was held)
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearAt(...Object.values(slots));
    const data = {
      title: title.value, room_id: room.value || null, starts_at: toIso(date.value, start.value), ends_at: toIso(date.value, end.value) || null,
      chair_id: chair.value || null, secretary_id: secretary.value || null,
    };
    const moved = !m || new Date(data.starts_at).getTime() !== new Date(m.starts_at).getTime();
    if (data.starts_at && moved && new Date(data.starts_at) < Date.now() - 60_000 && pastConfirmed !== data.starts_at) {
      pastConfirmed = data.starts_at; // most often a wrong day or year: say so before saving
      showAt(slots.start, new ApiError(0, "start_in_past",
        `Thời gian bắt đầu (${fmtDateTime(data.starts_at)}) đã qua. Kiểm tra lại ngày; nếu đúng, bấm “${m ? "Lưu thay đổi" : "Tạo cuộc họp"}” lần nữa.`,
        "The start time has passed. Check the date; if it is right, press the button again."));
      date.focus();
      return;
    }
    await run(save, general, async () => {
      try {
        if (m) {
          state.meeting = await api("PATCH", `/api/meetings/${m.id}`, data);
          toast("Đã lưu thông tin cuộc họp.", "ok", "Meeting details saved.");
        } else {
          state.meeting = await api("POST", "/api/meetings", { ...data, body_id: body.value, invite_body_members: inviteAll.checked });
          history.replaceState(null, "", `/prepare/${state.meeting.id}`);
          toast("Đã tạo cuộc họp. Hãy chọn người dự họp và soạn chương trình.", "ok", "Meeting created. Now choose the participants and the agenda.");
        }
      } catch (err) {
        const field = fieldsOf(err).map((f) => DETAIL_FIELDS[f]).find(Boolean);
        if (!field) throw err;
        // next to its field the field's own problem is enough ("không được để trống"), not the whole
        // request's ("Dữ liệu gửi lên không hợp lệ — Tiêu đề (title): …", walk-through)
        const own = (err.details?.fields || []).find((f) => DETAIL_FIELDS[String(f.field).split(".")[0]] === field);
        showAt(slots[field], own ? new ApiError(err.status, err.code, own.problem_vi, own.problem, err.details) : err);
        return;
      }
      await refreshAll();
    });
  });
  fill($("#details"), form);
}

// ---- participants ----------------------------------------------------------------------------

const roleBadge = (role) => h("span", { class: `badge role-${role}` }, ...bi(...ROLE_LABEL[role]));

async function loadParticipants() {
  state.participants = await api("GET", `/api/meetings/${state.meeting.id}/participants`);
}

function memberResults(list, role, slot, input) {
  const invited = new Set(state.participants.map((p) => p.member_id));
  if (!list.length) return h("p", { class: "muted" }, ...bi("Không tìm thấy ai.", "Nobody found."));
  return h("ul", { class: "plain results" }, list.slice(0, 20).map((m) => h("li", { class: "row" },
    h("span", { class: "grow" }, h("b", {}, m.full_name), m.title ? h("span", { class: "muted" }, ` — ${m.title}`) : null),
    invited.has(m.id)
      ? h("span", { class: "badge ok" }, "Đã mời")
      : h("button", { type: "button", class: "invite", "aria-label": `Mời ${m.full_name}`, onclick: (e) => run(e.currentTarget, slot, async () => {
        await api("POST", `/api/meetings/${state.meeting.id}/participants`, { member_id: m.id, role });
        await loadParticipants();
        renderPeople();
        const again = $(`#${input}`);
        if (again) { again.value = ""; again.focus(); }
      }) }, "Mời", " ", h("span", { class: "en" }, "Invite")))));
}

// A search box over the members (the API folds the diacritics: "nguyen van" finds "Nguyễn Văn …").
function searchBox(id, vi, en, params, role) {
  const slot = errorSlot(`err-${id}`);
  const results = h("div", { id: `${id}-results`, "aria-live": "polite" });
  const input = h("input", { id, type: "search", autocomplete: "off", placeholder: "Gõ tên, không cần dấu / Type a name" });
  let seq = 0, timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim(), mine = ++seq;
      if (!q) { results.replaceChildren(); return; }
      await run(null, slot, async () => {
        const found = await api("GET", `/api/members?${new URLSearchParams({ ...params, q, active: "true" })}`);
        if (mine === seq) fill(results, memberResults(found, role, slot, id));
      });
    }, 200);
  });
  return h("div", { class: "search" }, labelled(id, vi, en, input, slot), results);
}

function renderPeople() {
  const m = state.meeting;
  $("#people-count").textContent = String(state.participants.length);
  const slot = errorSlot("err-people");
  const list = h("ul", { class: "plain people", id: "participants" }, state.participants.map((p) => h("li", { class: "row", dataset: { member: p.member_id } },
    h("span", { class: "grow" }, h("b", {}, p.full_name), p.title ? h("span", { class: "muted" }, ` — ${p.title}`) : null), roleBadge(p.role),
    p.role === "chair" || p.role === "secretary" ? null : h("button", { type: "button", class: "danger small", "aria-label": `Bỏ ${p.full_name} khỏi danh sách`,
      onclick: (e) => run(e.currentTarget, slot, async () => { await api("DELETE", `/api/meetings/${m.id}/participants/${p.member_id}`); await loadParticipants(); renderPeople(); }) },
    "Bỏ", " ", h("span", { class: "en" }, "Remove")))));
  fill($("#people"),
    h("div", { class: "pair" },
      searchBox("member-search", "Mời thành viên của cơ quan", "Invite members of the body", { body_id: m.body_id }, "member"),
      searchBox("guest-search", "Mời khách (mọi người dùng)", "Invite guests (anyone)", {}, "guest")),
    slot,
    state.participants.length ? list : h("p", { class: "muted" }, ...bi("Chưa mời ai.", "Nobody invited yet.")));
  mountSeats($("#seats"), m.id).catch((err) => console.error(err)); // whom a seat may be given to follows the participants
}

// ---- agenda and documents ---------------------------------------------------------------------

const sizeText = (bytes) => {
  const nf = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
  if (bytes < 1024) return `${bytes} byte`; // an empty file says 0, not "1 KB"
  return bytes >= 1_048_576 ? `${nf.format(bytes / 1_048_576)} MB` : `${nf.format(bytes / 1024)} KB`;
};

async function loadAgenda() {
  state.agenda = await api("GET", `/api/meetings/${state.meeting.id}/agenda`);
}

async function saveOrder(ids, slot) {
  await run(null, slot, async () => {
    try { state.agenda = await api("PUT", `/api/meetings/${state.meeting.id}/agenda/order`, { item_ids: ids }); }
    finally { renderAgenda(); } // on a refusal the list goes back to the order the server keeps
  });
}

function move(index, by, slot) {
  const ids = state.agenda.map((i) => i.id);
  const [id] = ids.splice(index, 1);
  ids.splice(index + by, 0, id);
  return saveOrder(ids, slot);
}

// Six dots, drawn (no font has them everywhere).
function grip() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 12 20", width: "0.9em", height: "1.4em", fill: "currentColor", "aria-hidden": "true", class: "icon" })) svg.setAttribute(k, v);
  for (const [x, y] of [[3, 4], [9, 4], [3, 10], [9, 10], [3, 16], [9, 16]]) {
    const dot = document.createElementNS(ns, "circle");
    for (const [k, v] of Object.entries({ cx: x, cy: y, r: 1.8 })) dot.setAttribute(k, String(v));
    svg.append(dot);
  }
  return svg;
}

// Drag by the handle with pointer events: the same code for a finger, a pen and a mouse.
function dragHandle(li, item, index, slot) {
  const handle = h("button", { type: "button", class: "handle", "aria-label": `Kéo để đổi thứ tự mục “${item.title}”`, title: "Kéo để đổi thứ tự, hoặc dùng phím mũi tên / Drag, or use the arrow keys" },
    grip());
  handle.addEventListener("keydown", (e) => { // a keyboard moves the item with the arrow keys
    const by = { ArrowUp: -1, ArrowDown: 1 }[e.key];
    if (!by || index + by < 0 || index + by >= state.agenda.length) return;
    e.preventDefault();
    move(index, by, slot).then(() => $(`[data-item="${item.id}"] button.handle`)?.focus());
  });
  handle.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    li.classList.add("dragging");
    const list = li.parentElement;
    // Listened on the window: moving the item in the list would end a pointer capture on the handle.
    const onMove = (ev) => {
      const siblings = [...list.children].filter((c) => c !== li);
      const before = siblings.find((c) => { const r = c.getBoundingClientRect(); return ev.clientY < r.top + r.height / 2; }) || null;
      if (li.nextElementSibling !== before) list.insertBefore(li, before);
    };
    const onUp = () => {
      window.removeEventListener("pointermove", onMove);
      window.removeEventListener("pointerup", onUp);
      window.removeEventListener("pointercancel", onUp);
      li.classList.remove("dragging");
      const ids = [...list.children].map((c) => c.dataset.item);
      if (ids.join() !== state.agenda.map((i) => i.id).join()) saveOrder(ids, slot);
    };
    window.addEventListener("pointermove", onMove);
    window.addEventListener("pointerup", onUp);
    window.addEventListener("pointercancel", onUp);
  });
  return handle;
}

// One row per file on its way: its own progress bar, and its own error if the server refuses it.
function uploadRow(itemId, file, method, url) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": `Đang tải ${file.name}` });
  const pct = h("span", { class: "pct" }, "0%");
  const slot = errorSlot(null);
  const row = h("li", { class: "upload", dataset: { file: file.name } }, h("div", { class: "row" }, icon("document"), h("span", { class: "grow name" }, file.name), h("span", { class: "muted" }, sizeText(file.size)), pct), bar, slot);
  const rows = state.uploads.get(itemId) || [];
  rows.push(row);
  state.uploads.set(itemId, rows);
  const limit = state.me?.upload_limits?.document_mb;
  const sending = limit && file.size > limit * 1_048_576 // refused here: the server would answer 413 only after the whole file
    ? Promise.reject(new ApiError(413, "too_large", `Tệp ${file.name} lớn hơn ${limit} MB, mức lớn nhất máy chủ nhận; hãy nén hoặc chia nhỏ tệp PDF.`,
      `The file ${file.name} is over ${limit} MB, the largest the server accepts; compress or split the PDF.`))
    : sendFile(method, url, file, (f) => { bar.value = Math.round(f * 100); pct.textContent = `${Math.round(f * 100)}%`; });
  const done = sending
    .then(() => { rows.splice(rows.indexOf(row), 1); row.remove(); return true; })
    .catch((err) => {
      showAt(slot, err);
      row.classList.add("failed");
      row.querySelector(".row").append(h("button", { type: "button", class: "small", "aria-label": `Bỏ dòng lỗi của ${file.name}`, onclick: () => { rows.splice(rows.indexOf(row), 1); row.remove(); } }, "Đóng"));
      return false;
    });
  return done;
}

async function uploadAll(item, files, method = "POST", url = null) {
  const target = url || `/api/meetings/${state.meeting.id}/agenda/${item.id}/documents`;
  const waits = [...files].map((f) => uploadRow(item.id, f, method, target));
  renderAgenda();
  const results = await Promise.all(waits);
  await loadAgenda();
  renderAgenda();
  const ok = results.filter(Boolean).length;
  if (ok) toast(`Đã tải lên ${ok} tài liệu.`, "ok", `${ok} document(s) uploaded.`);
}

function filePicker(label, en, multiple, onFiles, aria, extra = "") {
  const input = h("input", { type: "file", accept: "application/pdf,.pdf", multiple, class: "sr-only", "aria-label": aria });
  input.addEventListener("change", () => { if (input.files.length) onFiles([...input.files]); input.value = ""; });
  return h("label", { class: `button file ${extra}` }, input, icon("upload"), " ", label, " ", h("span", { class: "en" }, en));
}

function documentRow(item, doc, slot) {
  return h("li", { class: "doc", dataset: { document: doc.id } },
    h("div", { class: "row" },
      icon("document"),
      h("a", { class: "grow name", href: doc.url, target: "_blank", rel: "noopener", onclick: readHere(state.meeting.id, doc) }, doc.title),
      h("span", { class: "doc-size" }, sizeText(doc.size)),
      h("span", { class: "doc-pages" }, `${doc.pages} trang`, " ", h("span", { class: "en" }, `${doc.pages} p.`))),
    h("div", { class: "row doc-actions" },
      h("span", { class: "muted grow filename" }, doc.filename),
      h("button", { type: "button", class: "small", "aria-label": `Đổi tên “${doc.title}”`, onclick: (e) => renameDoc(e.currentTarget, doc, slot) },
        "Đổi tên", " ", h("span", { class: "en" }, "Rename")),
      filePicker("Thay tệp", "Replace", false, (files) => uploadAll(item, files, "PUT", `/api/meetings/${state.meeting.id}/documents/${doc.id}/file`), `Thay tệp của “${doc.title}”`),
      h("button", { type: "button", class: "danger small", "aria-label": `Gỡ tài liệu “${doc.title}”`,
        onclick: (e) => run(e.currentTarget, slot, async () => { await api("DELETE", `/api/meetings/${state.meeting.id}/documents/${doc.id}`); await loadAgenda(); renderAgenda(); }) },
      "Gỡ", " ", h("span", { class: "en" }, "Remove"))));
}

// A file name gives a title without diacritics ("To trinh ngan sach"): the secretary types the right
// one in place of the row's name (walk-through).
function renameDoc(button, doc, slot) {
  const row = button.closest("li.doc");
  const input = h("input", { type: "text", id: `doc-title-${doc.id}`, value: doc.title, maxlength: 500 });
  const save = h("button", { type: "submit", class: "primary small" }, "Lưu", " ", h("span", { class: "en" }, "Save"));
  const form = h("form", { class: "doc-rename" },
    labelled(`doc-title-${doc.id}`, "Tên tài liệu", "Document title", input, null),
    h("div", { class: "row" }, save, h("button", { type: "button", class: "small", onclick: () => renderAgenda() }, "Thôi", " ", h("span", { class: "en" }, "Cancel"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(save, slot, async () => {
      await api("PATCH", `/api/meetings/${state.meeting.id}/documents/${doc.id}`, { title: input.value });
      toast("Đã đổi tên tài liệu.", "ok", "Document renamed.");
      await loadAgenda();
      renderAgenda();
    });
  });
  row.replaceChildren(form);
  input.focus();
  input.select();
}

function itemEditor(item, slot, onDone) {
  const title = h("input", { type: "text", id: `edit-title-${item.id}`, value: item.title, maxlength: 500 });
  const desc = h("textarea", { id: `edit-desc-${item.id}`, rows: 3 }, item.description || "");
  const save = h("button", { type: "submit", class: "primary" }, "Lưu", " ", h("span", { class: "en" }, "Save"));
  const form = h("form", { class: "item-edit" },
    labelled(`edit-title-${item.id}`, "Tên mục", "Item title", title, null),
    labelled(`edit-desc-${item.id}`, "Nội dung tóm tắt", "Summary", desc, null),
    h("div", { class: "row" }, save, h("button", { type: "button", onclick: onDone }, "Thôi", " ", h("span", { class: "en" }, "Cancel"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(save, slot, async () => {
      state.agenda = await api("PATCH", `/api/meetings/${state.meeting.id}/agenda/${item.id}`, { title: title.value, description: desc.value || null });
      onDone();
    });
  });
  return form;
}

const editing = new Set();

function agendaItem(item, index, count) {
  const slot = errorSlot(`err-item-${item.id}`);
  const li = h("li", { class: "item", dataset: { item: item.id } });
  const docsSlot = errorSlot(`err-docs-${item.id}`);
  const head = editing.has(item.id)
    ? itemEditor(item, slot, () => { editing.delete(item.id); renderAgenda(); })
    : h("div", { class: "item-head" },
      h("div", { class: "item-title" }, h("b", {}, `${index + 1}. ${item.title}`), item.description ? h("p", { class: "muted desc" }, item.description) : null),
      h("div", { class: "row item-actions" },
        h("button", { type: "button", class: "small", "aria-label": `Đưa mục “${item.title}” lên`, disabled: index === 0, onclick: () => move(index, -1, slot) }, "▲"),
        h("button", { type: "button", class: "small", "aria-label": `Đưa mục “${item.title}” xuống`, disabled: index === count - 1, onclick: () => move(index, 1, slot) }, "▼"),
        h("button", { type: "button", class: "small", "aria-label": `Sửa mục “${item.title}”`, onclick: () => { editing.add(item.id); renderAgenda(); } }, "Sửa", " ", h("span", { class: "en" }, "Edit")),
        h("button", { type: "button", class: "danger small", "aria-label": `Xóa mục “${item.title}”`,
          onclick: (e) => { const b = e.currentTarget; twoTaps(b, "Chạm lần nữa để xóa", () => run(b, slot, async () => { await api("DELETE", `/api/meetings/${state.meeting.id}/agenda/${item.id}`); await loadAgenda(); renderAgenda(); })); } },
        "Xóa", " ", h("span", { class: "en" }, "Delete"))));
  li.append(h("div", { class: "item-row" }, dragHandle(li, item, index, slot), h("div", { class: "grow item-body" }, head, slot,
    h("ul", { class: "plain docs" }, item.documents.map((d) => documentRow(item, d, docsSlot)), state.uploads.get(item.id) || []),
    docsSlot,
    filePicker("Tải tài liệu PDF lên", "Upload PDFs, several at once", true, (files) => uploadAll(item, files), `Tải tài liệu lên cho mục “${item.title}”`, "upload-picker"))));
  return li;
}

function renderAgenda() {
  const slot = errorSlot("err-agenda");
  const title = h("input", { type: "text", id: "new-item-title", maxlength: 500, autocomplete: "off" });
  const desc = h("input", { type: "text", id: "new-item-desc", autocomplete: "off" });
  const add = h("button", { type: "submit", class: "primary", id: "add-item" }, "Thêm mục", " ", h("span", { class: "en" }, "Add item"));
  const form = h("form", { id: "new-item", class: "new-item" },
    h("div", { class: "pair" },
      labelled("new-item-title", "Mục mới", "New item", title, null),
      labelled("new-item-desc", "Tóm tắt (không bắt buộc)", "Summary (optional)", desc, null)),
    slot, h("div", { class: "row" }, add));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(add, slot, async () => {
      state.agenda = await api("POST", `/api/meetings/${state.meeting.id}/agenda`, { title: title.value, description: desc.value || null });
      renderAgenda();
      $("#new-item-title").focus();
    });
  });
  fill($("#agenda"),
    state.agenda.length
      ? h("ol", { class: "plain agenda-edit", id: "agenda-items" }, state.agenda.map((item, i) => agendaItem(item, i, state.agenda.length)))
      : h("p", { class: "muted" }, ...bi("Chưa có mục nào.", "No items yet.")),
    form);
}

// ---- invitations and cancelling --------------------------------------------------------------

function renderSend() {
  const m = state.meeting;
  const slot = errorSlot("err-publish");
  const published = m.published_at
    ? h("p", { id: "publish-status", class: "badge ok" }, `Đã gửi giấy mời lúc ${fmtDateTime(m.published_at)}`, " ", h("span", { class: "en" }, "Invitations sent"))
    : h("p", { id: "publish-status", class: "muted" }, ...bi("Chưa gửi giấy mời: người dự họp chưa thấy cuộc họp trên trang của mình.", "Not sent yet: participants do not see the meeting on their home page."));
  // Sent once, then again only to tell of a change (the server says so when nothing changed); each
  // send reaches every participant, so it takes two taps, the second naming how many (walk-through).
  const again = !!m.published_at;
  const publish = h("button", { type: "button", class: again ? "big" : "primary big", id: "publish" },
    icon("link"), again ? " Gửi lại giấy mời (báo thay đổi) " : " Gửi giấy mời ", h("span", { class: "en" }, again ? "Send again (a change)" : "Send invitations"));
  // counted at the tap: people invited since this card was drawn count too (walk-through: it said 2 of 5)
  publish.addEventListener("click", () => twoTaps(publish, `Chạm lần nữa để gửi cho ${state.participants?.length ?? 0} người / Tap again to send to all`, () => run(publish, slot, async () => {
    const out = await api("POST", `/api/meetings/${m.id}/publish`, {});
    state.meeting = out && out.id ? out : await api("GET", `/api/meetings/${m.id}`);
    toast(again ? "Đã gửi lại giấy mời, báo thay đổi." : "Đã gửi giấy mời.", "ok", again ? "Invitations sent again." : "Invitations sent.");
    renderSend();
  })));

  const cancelSlot = errorSlot("err-cancel");
  const reason = h("textarea", { id: "cancel-reason", rows: 2, maxlength: 2000 });
  const confirm = h("button", { type: "submit", class: "danger", id: "cancel-confirm" }, "Xác nhận hủy cuộc họp", " ", h("span", { class: "en" }, "Cancel the meeting"));
  const cancel = h("form", { id: "cancel-form" }, labelled("cancel-reason", "Lý do hủy (người dự họp sẽ được báo)", "Reason (the participants are told)", reason, cancelSlot), confirm);
  cancel.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      showAt(cancelSlot, new ApiError(0, "reason", "Hãy ghi lý do hủy cuộc họp.", "Give the reason for cancelling."));
      return reason.focus();
    }
    run(confirm, cancelSlot, async () => {
      state.meeting = await api("POST", `/api/meetings/${m.id}/transitions`, { to: "cancelled", reason: reason.value });
      toast("Đã hủy cuộc họp.", "ok", "Meeting cancelled.");
      render();
      $("#cancelled-note").scrollIntoView({ block: "start" }); // the page stayed mid-way, the note off screen (a walk-through)
    });
  });
  fill($("#send"), published, publish, slot,
    m.next_states.includes("cancelled")
      ? h("details", { class: "cancel" }, h("summary", {}, "Hủy cuộc họp ", h("span", { class: "en" }, "Cancel the meeting")), cancel)
      : null);
}

// ---- the page --------------------------------------------------------------------------------

function render() {
  const m = state.meeting;
  const badge = $("#meeting-state");
  badge.hidden = !m;
  if (m) badge.textContent = m.state_label;
  const note = $("#cancelled-note");
  note.hidden = !(m && m.state === "cancelled");
  if (m && m.state === "cancelled") fill(note, h("b", {}, "Cuộc họp đã bị hủy. "), m.cancel_reason ? `Lý do: ${m.cancel_reason}` : "", " ", h("span", { class: "en" }, "This meeting was cancelled."));
  renderDetails();
  for (const id of ["people-card", "seats-card", "agenda-card", "send-card"]) $(`#${id}`).hidden = !m;
  $(".prepare-cols").classList.toggle("new", !m); // a meeting still to create: its details only, full width
  if (!m) return;
  renderPeople();
  renderAgenda();
  renderSend();
  // Only who runs the meeting changes it, and a cancelled meeting no more: the server refuses the rest anyway
  const readOnly = !m.can.run_meeting || m.state === "cancelled";
  for (const el of document.querySelectorAll("main.prepare :is(input, select, textarea, button)")) if (readOnly) el.disabled = true;
}

async function refreshAll() {
  const m = state.meeting;
  await Promise.all([loadBodyMembers(m.body_id), loadParticipants(), loadAgenda()]);
  render();
}

(async () => {
  try { state.me = await whoAmI(); } catch { return; }
  header(state.me, ["Chuẩn bị cuộc họp", "Preparing the meeting"], "meetings");
  try {
    [state.bodies, state.rooms] = await Promise.all([api("GET", "/api/bodies"), api("GET", "/api/rooms")]);
    const id = idFromPath();
    if (id) {
      state.meeting = await api("GET", `/api/meetings/${encodeURIComponent(id)}`);
      await refreshAll();
    } else {
      await loadBodyMembers(state.me.body_id || (state.bodies[0] && state.bodies[0].id));
      render();
    }
  } catch (err) {
    const slot = errorSlot("err-page");
    fill($("#details"), slot);
    showAt(slot, err);
  }
})();
