// Documents read inside the meeting page: an overlay over the page (which stays as it was, scroll
// and live updates included) with pdf.js drawing one page at a time, page by page, zoom and fit to
// width, and the reader's private notes per page (theirs alone: the server keys them to the session).
// pdf.js comes from the npm registry at set-up and is served under /static/vendor/; a large PDF is
// read in byte ranges as pages are shown, not downloaded whole first. Without pdf.js (npm not run)
// the overlay says so and offers the file to download.
import { ApiError, api, fmtTime, h, showError } from "/static/app.js";

const PDFJS = "/static/vendor/pdfjs-dist";
const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];
const PATHS = {
  close: "M6 6l12 12M18 6L6 18",
  prev: "M15 5l-7 7 7 7",
  next: "M9 5l7 7-7 7",
  zoomIn: "M11 4a7 7 0 1 1 0 14 7 7 0 0 1 0-14zM20 20l-4-4M8 11h6M11 8v6",
  zoomOut: "M11 4a7 7 0 1 1 0 14 7 7 0 0 1 0-14zM20 20l-4-4M8 11h6",
  fit: "M3 12h18M7 8l-4 4 4 4M17 8l4 4-4 4",
  note: "M5 3h14v13l-5 5H5zM14 21v-5h5M8 8h8M8 12h5",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
};

function glyph(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: "1.2em", height: "1.2em", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon" })) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}

let pdfjsLoad = null; // one import per page; a failed one is tried again at the next opening
function loadPdfjs() {
  pdfjsLoad ??= import(`${PDFJS}/build/pdf.min.mjs`).then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = `${PDFJS}/build/pdf.worker.min.mjs`;
    return lib;
  }).catch((err) => { pdfjsLoad = null; throw err; });
  return pdfjsLoad;
}

function styles() {
  if (!document.querySelector("link[data-viewer]")) document.head.append(h("link", { rel: "stylesheet", href: "/static/viewer.css", "data-viewer": "" }));
}

let current = null; // the open viewer (one at a time)

// A click on a document link: read it here (a modified click still opens the link as a link).
export function readHere(meetingId, doc) {
  return (ev) => {
    if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    openDocument(meetingId, doc, ev.currentTarget);
  };
}

export function openDocument(meetingId, doc, opener = null) {
  current?.close();
  current = new Viewer(meetingId, doc, opener);
  return current;
}

class Viewer {
  constructor(meetingId, doc, opener) {
    Object.assign(this, { meetingId, doc, opener, page: 1, pages: doc.pages || 1, zoom: "fit", notes: new Map() });
    this.opened = performance.now();
    this.notesUrl = `/api/meetings/${meetingId}/documents/${doc.id}/notes`;
    styles();
    this.build();
    // The phone's back button closes the reader instead of leaving the meeting page.
    history.pushState({ viewer: doc.id }, "");
    this.onPop = () => this.close(false);
    window.addEventListener("popstate", this.onPop);
    this.onKey = (ev) => this.key(ev);
    document.addEventListener("keydown", this.onKey);
    this.onResize = () => { if (this.zoom === "fit") this.render().catch(showError); };
    window.addEventListener("resize", this.onResize);
    document.documentElement.classList.add("viewer-open"); // the page under it keeps its place, without scrolling
    this.prevButton.disabled = true;
    this.nextButton.disabled = this.pages <= 1;
    this.closeButton.focus();
    this.loadNotes();
    this.start();
  }

  build() {
    const d = this.doc;
    const button = (name, label, onclick, attrs = {}) => h("button", { type: "button", "aria-label": label, title: label, onclick, ...attrs }, glyph(name));
    this.closeButton = h("button", { type: "button", class: "viewer-close", id: "viewer-close", "aria-label": "Đóng tài liệu", onclick: () => this.close() }, glyph("close"), h("span", {}, "Đóng"));
    this.pageInput = h("input", { type: "number", id: "viewer-page", min: 1, max: this.pages, value: 1, inputmode: "numeric", "aria-label": "Trang" });
    this.pageInput.addEventListener("change", () => this.go(Number(this.pageInput.value)));
    this.pageCount = h("span", { class: "viewer-count" }, `/ ${this.pages}`);
    this.prevButton = button("prev", "Trang trước", () => this.go(this.page - 1), { id: "viewer-prev" });
    this.nextButton = button("next", "Trang sau", () => this.go(this.page + 1), { id: "viewer-next" });
    this.zoomLabel = h("span", { class: "viewer-zoom", id: "viewer-zoom", "aria-live": "polite" }, "");
    this.fitButton = h("button", { type: "button", id: "viewer-fit", "aria-pressed": "true", title: "Vừa chiều ngang", onclick: () => this.setZoom("fit") }, glyph("fit"), h("span", { class: "viewer-wide" }, "Vừa khung"));
    this.notesButton = h("button", { type: "button", id: "viewer-notes-toggle", title: "Ghi chú riêng của bạn", "aria-expanded": "false", "aria-controls": "viewer-notes", onclick: () => this.toggleNotes() },
      glyph("note"), h("span", {}, "Ghi chú"), this.noteBadge = h("span", { class: "badge", hidden: true }, ""));
    this.canvasBox = h("div", { class: "viewer-canvas", id: "viewer-canvas" });
    this.status = h("p", { class: "viewer-status", role: "status", id: "viewer-status" }, "Đang tải tài liệu… ", h("span", { class: "en" }, "Loading the document…"));
    this.scroller = h("div", { class: "viewer-pages", tabindex: "0", "aria-label": `Nội dung tài liệu ${d.title}` }, this.status, this.canvasBox);
    this.noteText = h("textarea", { id: "viewer-note-text", maxlength: 20000, "aria-describedby": "viewer-note-help" });
    this.noteText.addEventListener("input", () => this.noteChanged());
    this.noteText.addEventListener("blur", () => this.saveNote());
    this.noteState = h("span", { class: "muted", id: "viewer-note-state", role: "status" }, "");
    this.noteLabel = h("label", { for: "viewer-note-text" }, "Ghi chú trang 1 ", h("span", { class: "en" }, "Note on page 1"));
    this.notesPanel = h("aside", { class: "viewer-notes", id: "viewer-notes", hidden: true, "aria-label": "Ghi chú riêng" },
      this.noteLabel, this.noteText,
      h("p", { class: "muted", id: "viewer-note-help" }, "Chỉ riêng bạn đọc được ghi chú này; không ai khác, kể cả quản trị, thư ký hay chủ tọa. ",
        h("span", { class: "en" }, "Only you can read this note.")),
      this.noteState, this.notedPages = h("p", { class: "viewer-noted" }));
    this.el = h("div", { class: "viewer", id: "viewer", role: "dialog", "aria-modal": "true", "aria-label": `Tài liệu: ${d.title}`, dataset: { document: d.id } },
      h("div", { class: "viewer-head" },
        h("h2", { class: "viewer-title", title: d.title }, d.title),
        this.notesButton,
        h("a", { class: "button", href: `${d.url}?download=true`, download: "", title: "Tải về", "aria-label": "Tải tài liệu về" }, glyph("download")),
        this.closeButton),
      h("div", { class: "viewer-tools", role: "toolbar", "aria-label": "Điều khiển trang" },
        h("div", { class: "viewer-group" }, this.prevButton, this.pageInput, this.pageCount, this.nextButton),
        h("div", { class: "viewer-group" },
          button("zoomOut", "Thu nhỏ", () => this.step(-1), { id: "viewer-zoom-out" }), this.zoomLabel,
          button("zoomIn", "Phóng to", () => this.step(1), { id: "viewer-zoom-in" }), this.fitButton)),
      h("div", { class: "viewer-body" }, this.scroller, this.notesPanel));
    document.body.append(this.el);
  }

  async start() {
    let lib;
    try { lib = await loadPdfjs(); } catch { return this.fallback(true); }
    if (this.closed) return;
    this.task = lib.getDocument({
      url: this.doc.url,
      withCredentials: true,
      // page by page: byte ranges for what the shown page needs, nothing fetched ahead in the background.
      // Small pieces: before the first page pdf.js reads every page's dictionary (to check the last
      // page), and scanners put each one next to its image; runs of pieces go as one request.
      // 20 MB, 100 pages at 50 Mbit/s: 1.9 MB read, 2.4 s to page 1 (64 KB: 6.8 MB, 3.0 s; 256 KB: all, 5.5 s).
      disableAutoFetch: true, disableStream: true, rangeChunkSize: 16 * 1024,
      isEvalSupported: false, // the pages' policy runs no eval
      cMapUrl: `${PDFJS}/cmaps/`, cMapPacked: true, standardFontDataUrl: `${PDFJS}/standard_fonts/`,
    });
    try { this.pdf = await this.task.promise; } catch (err) { if (!this.closed) this.fallback(false, err); return; }
    if (this.closed) { this.pdf.destroy(); return; }
    this.pages = this.pdf.numPages;
    this.pageInput.max = this.pages;
    this.pageCount.textContent = `/ ${this.pages}`;
    this.nextButton.disabled = this.page >= this.pages;
    await this.render();
  }

  // pdf.js missing (npm not run on the server) or a file it cannot read: say so, offer the file.
  fallback(missing, err) {
    this.el.classList.add("viewer-fallback");
    this.status.replaceChildren(
      missing ? "Máy chủ chưa cài trình đọc tài liệu (pdf.js), nên tài liệu không mở được ngay trong trang. "
        : "Không hiển thị được tài liệu này trong trang. ",
      h("a", { href: `${this.doc.url}?download=true`, download: "", id: "viewer-download" }, "Tải tài liệu về"),
      " hoặc ", h("a", { href: this.doc.url, target: "_blank", rel: "noopener" }, "mở trong thẻ mới"), ". ",
      h("span", { class: "en" }, missing ? "The server has no document reader (pdf.js): download the document instead." : "The document cannot be shown here: download it instead."));
    this.status.hidden = false;
    if (err && !missing) console.warn("pdf.js:", err);
  }

  async render() {
    if (!this.pdf || this.closed) return;
    const n = this.page;
    const page = await this.pdf.getPage(n);
    if (this.closed || n !== this.page) return; // another page was asked for meanwhile
    const base = page.getViewport({ scale: 1 });
    const width = Math.max(120, this.scroller.clientWidth - 16);
    const scale = this.zoom === "fit" ? width / base.width : this.zoom;
    const viewport = page.getViewport({ scale });
    const ratio = window.devicePixelRatio || 1;
    const canvas = h("canvas", { "aria-label": `Trang ${n}`, role: "img" });
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    this.renderTask?.cancel();
    const task = (this.renderTask = page.render({ canvasContext: canvas.getContext("2d"), viewport, transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null }));
    try { await task.promise; } catch (err) { if (err?.name === "RenderingCancelledException") return; throw err; }
    if (this.closed || n !== this.page) return;
    this.canvasBox.replaceChildren(canvas);
    this.status.hidden = true;
    this.zoomLabel.textContent = `${Math.round(scale * 100)}%`;
    this.fitButton.setAttribute("aria-pressed", String(this.zoom === "fit"));
    this.el.dataset.page = String(n);
    this.el.dataset.scale = scale.toFixed(3);
    if (!this.el.dataset.firstPageMs) this.el.dataset.firstPageMs = String(Math.round(performance.now() - this.opened)); // the benchmark reads it
  }

  go(n) {
    n = Math.min(this.pages, Math.max(1, Math.round(n) || 1));
    this.pageInput.value = n;
    if (n === this.page) return;
    this.saveNote();
    this.page = n;
    this.prevButton.disabled = n <= 1;
    this.nextButton.disabled = n >= this.pages;
    this.scroller.scrollTo(0, 0);
    this.showNote();
    this.render().catch(showError);
  }

  setZoom(zoom) { this.zoom = zoom; this.render().catch(showError); }

  step(direction) {
    const now = Number(this.el.dataset.scale) || 1;
    const next = direction > 0 ? ZOOMS.find((z) => z > now + 0.01) : [...ZOOMS].reverse().find((z) => z < now - 0.01);
    this.setZoom(next ?? now);
  }

  key(ev) {
    if (ev.target instanceof HTMLTextAreaElement || ev.target instanceof HTMLInputElement) { if (ev.key === "Escape") ev.target.blur(); return; }
    const keys = { Escape: () => this.close(), ArrowLeft: () => this.go(this.page - 1), ArrowRight: () => this.go(this.page + 1), PageUp: () => this.go(this.page - 1), PageDown: () => this.go(this.page + 1), "+": () => this.step(1), "-": () => this.step(-1) };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  }

  // --- private notes --------------------------------------------------------------------------

  async loadNotes() {
    try {
      for (const n of await api("GET", this.notesUrl)) this.notes.set(n.page, n.text);
    } catch (err) {
      if (err instanceof ApiError && err.details?.needs === "own_login") {
        // opened from an invitation link: private notes need the member's own login (the server says why)
        this.notesOff = err.message;
        this.noteText.disabled = true;
      } else if (!(err instanceof ApiError && err.status === 404)) showError(err);
    }
    this.showNote();
  }

  showNote() {
    this.noteLabel.replaceChildren(`Ghi chú trang ${this.page} `, h("span", { class: "en" }, `Note on page ${this.page}`));
    this.noteText.value = this.notes.get(this.page) || "";
    this.noteState.textContent = this.notesOff || "";
    this.markNoted();
  }

  markNoted() {
    const pages = [...this.notes.entries()].filter(([, text]) => text).map(([p]) => p).sort((a, b) => a - b);
    this.noteBadge.hidden = !pages.length;
    this.noteBadge.textContent = String(pages.length);
    this.notedPages.replaceChildren(...(pages.length ? ["Trang có ghi chú: ", ...pages.flatMap((p, i) => [i ? ", " : "",
      h("button", { type: "button", class: "link", onclick: () => this.go(p), "aria-label": `Đến trang ${p}` }, String(p))])] : []));
  }

  noteChanged() {
    if (this.notesOff) return;
    this.dirty = { page: this.page, text: this.noteText.value };
    this.noteState.textContent = "Chưa lưu…";
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveNote(), 800);
  }

  async saveNote() {
    clearTimeout(this.saveTimer);
    const pending = this.dirty;
    if (!pending) return;
    this.dirty = null;
    try {
      const saved = await api("PUT", `${this.notesUrl}/${pending.page}`, { text: pending.text });
      this.notes.set(saved.page, saved.text);
      if (this.page === saved.page && !this.dirty) this.noteState.textContent = saved.text ? `Đã lưu lúc ${fmtTime(saved.updated_at)}` : "Đã xóa ghi chú";
      this.markNoted();
    } catch (err) {
      this.dirty ??= pending; // kept for the next try
      this.noteState.textContent = "Chưa lưu được";
      showError(err);
    }
  }

  toggleNotes() {
    const show = this.notesPanel.hidden;
    this.notesPanel.hidden = !show;
    this.notesButton.setAttribute("aria-expanded", String(show));
    if (show) this.noteText.focus();
    if (this.zoom === "fit") this.render().catch(showError); // the page's width changed
  }

  // Close: the meeting page is as it was, with the focus back on the link that opened the reader.
  close(viaButton = true) {
    if (this.closed) return;
    this.closed = true;
    this.saveNote();
    this.renderTask?.cancel();
    this.task?.destroy();
    window.removeEventListener("popstate", this.onPop);
    window.removeEventListener("resize", this.onResize);
    document.removeEventListener("keydown", this.onKey);
    document.documentElement.classList.remove("viewer-open");
    this.el.remove();
    if (viaButton && history.state?.viewer === this.doc.id) history.back(); // the entry the reader added
    if (current === this) current = null;
    const back = this.opener?.isConnected ? this.opener : document.querySelector(`a[data-document="${CSS.escape(this.doc.id)}"]`); // redrawn meanwhile
    back?.focus({ preventScroll: true });
  }
}
