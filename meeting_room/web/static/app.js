// Shared by every page: the API client with bilingual errors, a safe DOM builder, the meeting
// stream that reconnects and resumes without gaps, toasts, and the page header.

export class ApiError extends Error {
  constructor(status, code, message, messageEn, details) {
    super(message);
    Object.assign(this, { status, code, messageEn, details });
  }
}

// api("POST", "/api/…", {json}) or api("POST", url, formData); resolves to JSON (or null for 204).
export async function api(method, path, body) {
  return (await call(method, path, body)).data;
}

// A file sent through XMLHttpRequest, as form field "file" (and ``fields``): fetch() cannot report
// upload progress; ``onProgress`` gets the share sent (0-1). Resolves and rejects as ``api``.
export function sendFile(method, url, file, onProgress = () => {}, fields = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON: the status says it */ }
      const e = (data && data.error) || {};
      if (xhr.status === 401) toLogin(e.code === "meeting_ended" ? "meeting" : true);
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      reject(new ApiError(xhr.status, e.code || `http_${xhr.status}`, e.message || `Máy chủ trả lỗi ${xhr.status}`, e.message_en || `The server answered ${xhr.status}`, e.details));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.", "Cannot reach the server. Check the network and try again.")));
    const form = new FormData();
    form.append("file", file);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    xhr.send(form);
  });
}

// One page of a paged list (GET): its items, how many there are in all, and the next page's path
// (null on the last). The server sends the last two as headers: X-Total-Count and Link rel="next".
export async function apiPage(path) {
  const { data, response } = await call("GET", path);
  const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") || "");
  return { items: data, total: Number(response.headers.get("x-total-count") ?? data.length), next: next ? next[1] : null };
}

async function call(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  let response;
  try { response = await fetch(path, init); }
  catch { throw new ApiError(0, "network", "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.", "Cannot reach the server. Check the network and try again."); }
  if (response.status === 204) return { data: null, response };
  const type = response.headers.get("content-type") || "";
  let data = null;
  if (type.includes("json")) {
    try { data = await response.json(); }
    catch { // cut off or malformed: an answer that was not given, never an empty one
      if (response.ok) throw new ApiError(0, "network", "Câu trả lời của máy chủ bị gián đoạn. Thử lại.", "The server's answer was cut off. Try again.");
    }
  }
  // the session ended (on the login page itself a 401 is that form's own answer: a wrong current password)
  if (response.status === 401 && !path.startsWith("/api/auth/") && location.pathname !== "/") {
    toLogin(data?.error?.code === "meeting_ended" ? "meeting" : true);
  }
  if (!response.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(response.status, e.code || `http_${response.status}`,
      e.message || `Máy chủ trả lỗi ${response.status}`, e.message_en || `The server answered ${response.status}`, e.details);
  }
  return { data, response };
}

// A session that ended underneath a page (expired, logged out elsewhere, invitation revoked, or
// "meeting": an invitation link's meeting was closed): the login page says why instead of appearing
// out of nowhere.
let leaving = false;
export function toLogin(ended = true) {
  if (leaving) return; // once: an HTTP 401 and the stream's close often come together, and a second navigation aborts the first
  leaving = true;
  const next = encodeURIComponent(location.pathname + location.search);
  location.href = `/?next=${next}${ended ? `&ended=${ended === "meeting" ? "meeting" : 1}` : ""}`;
}
// Back from the login page, the browser may show this page from its cache as it was left: its stream
// closed and `leaving` set, so that it would never go to the login page again. It is loaded afresh.
addEventListener("pageshow", (e) => {
  if (e.persisted && leaving) location.reload();
});

// h("button", {class: "primary", onclick: f}, "Text", child…): text is always text, never HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v; // through the CSSOM: the pages' CSP allows no style attributes
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

// What had the focus last. A field kept across redraws (a passphrase, a reply) is moved into its new
// card while that card is built, before fill() puts the card here: the move took its focus before
// fill() could see it, and a tablet's keyboard closed mid-word. Forgotten when the user leaves it.
// Only for the redraw under way: a field removed for good, or left by a tap elsewhere (a tablet's
// browser focuses no button it taps), is forgotten, so that no later redraw brings its keyboard back.
let lastFocused = null;
addEventListener("focusin", (e) => { lastFocused = e.target; }, true);
addEventListener("focusout", (e) => {
  const t = e.target;
  queueMicrotask(() => { if (lastFocused === t && t.isConnected && document.activeElement !== t) lastFocused = null; });
  setTimeout(() => { if (lastFocused === t && !t.isConnected) lastFocused = null; }); // a card is built and put in place in one task
}, true);
addEventListener("pointerdown", (e) => { if (lastFocused && !lastFocused.contains(e.target)) lastFocused = null; }, true);

// Replace a container's content. Redrawing must not throw a keyboard user's focus away: when the
// focus was inside, it moves to the element with the same id, else to the first control there.
export function fill(el, ...children) {
  const active = document.activeElement;
  const had = active && active !== document.body && el.contains(active);
  const moved = !had && (!active || active === document.body) && lastFocused && !lastFocused.isConnected ? lastFocused : null;
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  if (moved && el.contains(moved)) moved.focus({ preventScroll: true });
  else if (had && !el.contains(document.activeElement)) {
    const next = (active.id && el.querySelector(`#${CSS.escape(active.id)}`)) || el.querySelector("button:not([disabled]), a[href], input, select, textarea");
    if (next) next.focus();
  }
  return el;
}
export const $ = (sel, root = document) => root.querySelector(sel);

// Two lines: Vietnamese, then the English in a quieter span.
export const bi = (vi, en) => [vi, " ", h("span", { class: "en" }, en)];

// A short note in the corner: gone after a few seconds, or at once with a tap; never more than three.
export function toast(text, kind = "info", en = "") {
  const box = $("#toasts") || document.body.appendChild(h("div", { id: "toasts", role: "status", "aria-live": "polite" }));
  const t = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : null, onclick: () => t.remove() },
    h("div", {}, text, en ? h("div", { class: "en" }, en) : null),
    h("button", { type: "button", class: "dismiss", "aria-label": "Đóng thông báo" }, "×"));
  if (kind === "ok") box.querySelectorAll(".toast.error").forEach((e) => e.remove()); // what went wrong was put right
  for (const same of box.querySelectorAll(".toast")) if (same.firstChild.textContent === t.firstChild.textContent) same.remove(); // once, the newest
  box.append(t);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => t.remove(), kind === "error" ? 6000 : 3000);
}

export function showError(err) {
  if (err instanceof ApiError) toast(err.message, "error", err.messageEn);
  else { console.error(err); toast("Đã có lỗi trên trang. Tải lại trang rồi thử lại.", "error", String(err)); }
}

// Run an action from a button: disabled while it runs (no double submits), errors shown.
// A disabled button drops the focus, and the redraw may replace it: give a keyboard user's focus
// back to the button, its successor with the same id, or the first control of its card.
export async function act(button, fn) {
  const focused = button && document.activeElement === button;
  const card = button?.closest(".card, form, section");
  if (button) button.disabled = true;
  try { return await fn(); } catch (err) { showError(err); return undefined; } finally {
    if (button) button.disabled = false;
    if (focused && (!document.activeElement || document.activeElement === document.body)) {
      const next = (button.isConnected && button) || (button.id && document.getElementById(button.id))
        || (card?.isConnected && card.querySelector("button:not([disabled]), a[href], input, select, textarea"));
      if (next) next.focus({ preventScroll: true }); // where the answer put the page stays
    }
  }
}

// An action that cannot be undone takes two taps: the first arms the button (its label says what
// the second does), a second within 5 s runs ``fn``. No keyboard, no pop-up dialog.
export function twoTaps(button, armedLabel, fn) {
  if (button.dataset.armed) { disarm(button); return fn(); }
  button.dataset.armed = "1";
  button._label = [...button.childNodes];
  button.classList.add("armed");
  button.replaceChildren(armedLabel);
  button._disarm = setTimeout(() => disarm(button), 5000);
  return undefined;
}

function disarm(button) {
  if (!button.dataset.armed) return;
  clearTimeout(button._disarm); // an earlier arming's timer must not disarm a later one
  delete button.dataset.armed;
  button.classList.remove("armed");
  button.replaceChildren(...button._label);
}

// Dates as read in Vietnam, the same on every page: dd/mm/yyyy, times hh:mm (24 h).
const TZ = "Asia/Ho_Chi_Minh";
export const fmtTime = (iso) => new Date(iso).toLocaleTimeString("vi-VN", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false });
export const fmtDate = (iso) => {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: TZ, day: "2-digit", month: "2-digit", year: "numeric" })
    .formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.day}/${parts.month}/${parts.year}`;
};
export const fmtDateTime = (iso) => `${fmtDate(iso)} ${fmtTime(iso)}`;
// From one moment to another: "dd/mm/yyyy hh:mm–hh:mm", the second day written out only if it differs.
export const fmtSpan = (from, to) => !to ? fmtDateTime(from)
  : `${fmtDateTime(from)}–${fmtDate(to) === fmtDate(from) ? fmtTime(to) : fmtDateTime(to)}`;
// A calendar date from the server ("2026-12-01"), without a time zone to shift it.
export const dayOf = (iso) => new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso)); // yyyy-mm-dd in Vietnam
export const fmtDay = (ymd) => ymd.split("-").reverse().join("/");

// Date and time fields are drawn by the browser in its own language (an English one writes
// 12/11/2026 and 08:00 AM): under them, what was chosen as read in Vietnam, with its weekday.
const WEEKDAYS = [["Chủ nhật", "Sun"], ["Thứ Hai", "Mon"], ["Thứ Ba", "Tue"], ["Thứ Tư", "Wed"], ["Thứ Năm", "Thu"], ["Thứ Sáu", "Fri"], ["Thứ Bảy", "Sat"]];
// A field's value ("yyyy-mm-dd", or "yyyy-mm-ddThh:mm") -> ["Thứ Sáu, 11/12/2026[ lúc 17:00]", "Fri"]; null when empty or partial.
export function fieldDay(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}:\d{2}))?$/.exec(value || "");
  if (!m) return null;
  const [vi, en] = WEEKDAYS[new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay()];
  return [`${vi}, ${fmtDay(value.slice(0, 10))}${m[4] ? ` lúc ${m[4]}` : ""}`, en];
}
// A line that reads back ``inputs`` as ``text()`` gives it ([vi, en], or null: nothing shown), kept up
// to date as they change (a value set by a script: dispatch "change" on the field). Inside a label it
// stays out of the field's accessible name (aria-hidden).
export function readBack(inputs, text) {
  const out = h("span", { class: "read-back", "aria-hidden": "true" }); // for the eye: the field itself is what is read out
  const update = () => {
    const t = text();
    fill(out, t ? [t[0], " ", h("span", { class: "en" }, t[1])] : null);
    out.hidden = !t;
  };
  for (const el of inputs) for (const kind of ["input", "change"]) el.addEventListener(kind, update);
  update();
  return out;
}
// Every date field of a form written in HTML gets its read-back inside its label.
export function readBackDates(form) {
  for (const input of form.querySelectorAll('input[type="date"], input[type="datetime-local"]')) {
    (input.closest("label") || input.parentElement).append(readBack([input], () => fieldDay(input.value)));
  }
}
export const clock = (s) => { s = Math.max(0, Math.floor(s)); const p = (n) => String(n).padStart(2, "0"); return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`; };

export async function whoAmI() {
  let me;
  try { me = await api("GET", "/api/auth/me"); }
  catch (err) { if (err.status === 401) toLogin(err.code === "meeting_ended" ? "meeting" : false); else showError(err); throw err; }
  if (me.must_change_password) { toLogin(false); throw new Error("a temporary password must be changed first"); } // the login page asks
  return me;
}

// The reader's text size (the header's "Aa" button), kept on this device.
const SIZES = [["", "vừa"], ["large", "lớn"], ["xlarge", "rất lớn"]];
function textSize() { try { return localStorage.getItem("textSize") || ""; } catch { return ""; } }
function applyTextSize(size) {
  if (size) document.documentElement.dataset.text = size; else delete document.documentElement.dataset.text;
}
applyTextSize(textSize());
function textSizeButton() {
  const label = () => `Cỡ chữ: ${SIZES.find(([k]) => k === textSize())?.[1] || "vừa"}. Chạm để đổi. / Text size: tap to change.`;
  const button = h("button", { type: "button", id: "text-size", "aria-label": label(), title: label() }, "Aa");
  button.addEventListener("click", () => {
    const i = SIZES.findIndex(([k]) => k === textSize());
    const next = SIZES[(i + 1) % SIZES.length][0];
    try { localStorage.setItem("textSize", next); } catch { /* private mode: for this page only */ }
    applyTextSize(next);
    button.setAttribute("aria-label", label());
    button.title = label();
  });
  return button;
}

// The page header: title, navigation by what the server says one may do, who is logged in, log out, connection state.
// ``title`` is [Vietnamese, English]: the English sits under it, smaller (on a phone only the Vietnamese).
export function header(me, title, current) {
  const [vi, en] = Array.isArray(title) ? title : [title, ""];
  // a session from an invitation link sees its one meeting: the list of meetings would refuse it (a walk-through
  // found a page left "Đang tải…" under a red toast)
  const links = me.only_meeting ? [[`/member/${me.only_meeting}`, "Cuộc họp được mời", "Your meeting", "meetings"]]
    : [["/meetings", "Cuộc họp", "Meetings", "meetings"]];
  if (me.can.browse_archive) links.push(["/clerk", "Lưu trữ & tra cứu", "Archive", "clerk"]);
  if (me.can.administer) links.push(["/admin", "Quản trị", "Admin", "admin"]);
  const logout = h("button", { class: "link two-line", type: "button", onclick: async () => {
    await api("POST", "/api/auth/logout").catch(() => {});
    try { sessionStorage.clear(); } catch { /* nothing kept */ } // receipts kept for a reload go with the session
    location.href = "/";
  } }, ...bi("Đăng xuất", "Log out"));
  const bar = h("header", { class: "bar" },
    h("h1", {}, vi, en ? [" ", h("span", { class: "en" }, en)] : []),
    h("nav", { class: "tabs", "aria-label": "Trang / Pages" }, links.map(([href, label, english, key]) => h("a", { href, "aria-current": key === current ? "page" : null }, ...bi(label, english)))),
    h("span", { id: "connection", role: "status", hidden: true }),
    h("span", { class: "who" }, me.full_name, me.only_meeting ? h("span", { class: "en" }, " qua liên kết mời / by invitation link") : null),
    textSizeButton(),
    logout);
  document.body.prepend(bar);
  if (!$("#toasts")) document.body.append(h("div", { id: "toasts", "aria-live": "polite" }));
  return bar;
}

function connection(text, down) {
  const el = $("#connection");
  if (!el) return;
  el.hidden = false;
  el.textContent = text;
  el.classList.toggle("down", down);
}

// The meeting's live events: resumes after the last event seen, so a reconnect loses nothing.
export class MeetingStream {
  constructor(meetingId, onMessage, after = 0) {
    Object.assign(this, { meetingId, onMessage, last: after, retry: 0, closed: false, ready: false });
    this.open();
  }
  open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/api/meetings/${this.meetingId}/stream?after=${this.last}`);
    this.ws = ws;
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.kind === "event") this.last = Math.max(this.last, msg.event.id);
      if (msg.kind === "ready") { this.ready = true; this.retry = 0; this.fatal = null; connection("● Cập nhật trực tiếp / Live", false); }
      if (msg.kind === "error") { // said once, not at every retry of the same refusal
        if (this.fatal?.code !== msg.error.code) toast(msg.error.message, "error", msg.error.message_en);
        this.fatal = msg.error;
      }
      this.onMessage(msg);
    };
    ws.onclose = (e) => {
      this.ready = false;
      if (this.closed) return;
      if (e.code === 4401) return toLogin(this.fatal?.code === "meeting_ended" ? "meeting" : true);
      if (e.code === 4403 || e.code === 4404) return connection("Không có quyền theo dõi / Not allowed to follow", true);
      if (e.code === 4429) { // too many pages of meetings open: tried again once one is closed
        connection("Quá nhiều trang cuộc họp đang mở — hãy đóng bớt / too many pages open", true);
        return setTimeout(() => this.open(), 10_000);
      }
      const wait = Math.min(10, 2 ** this.retry++) * 1000;
      connection(`Mất kết nối — đang kết nối lại… / reconnecting`, true);
      setTimeout(() => this.open(), wait);
    };
  }
  close() { this.closed = true; this.ws.close(); }
}

// Runs fn once for a burst of calls (events arriving together re-read a resource once).
export function coalesce(fn, ms = 60) {
  let timer = null;
  return () => { if (timer) return; timer = setTimeout(() => { timer = null; fn(); }, ms); };
}

// Small inline SVG icons (Debian has no emoji font): icon("phone") before a button's words.
// Paths are simple strokes on a 24-unit grid, drawn in the text's colour.
const ICONS = {
  phone: "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z",
  camera: "M3 8h4l2-3h6l2 3h4v11H3zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
  mic: "M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3zM5 11a7 7 0 0 0 14 0M12 18v3",
  micOff: "M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3zM5 11a7 7 0 0 0 14 0M12 18v3M3 3l18 18",
  copy: "M8 8h12v12H8zM4 16V4h12",
  document: "M6 3h8l4 4v14H6zM14 3v4h4M9 12h6M9 16h6",
  hand: "M8 13V5a1.5 1.5 0 0 1 3 0v6-7a1.5 1.5 0 0 1 3 0v7-5a1.5 1.5 0 0 1 3 0v9a7 7 0 0 1-12.5 4.3L3 15.5a1.5 1.5 0 0 1 2.3-1.9L8 16",
  warning: "M12 3l10 18H2zM12 10v5M12 18v.5",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  upload: "M12 15V4M7 9l5-5 5 5M5 20h14",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
  place: "M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11zM12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z",
  person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
  plus: "M12 5v14M5 12h14",
};
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: "1.1em", height: "1.1em", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon" })) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}
