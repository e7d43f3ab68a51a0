// What the chair must know about the server itself during a meeting, from /api/health's warnings:
// a clock that is not synchronised (every event, vote and signature carries the server's time) and
// a data disk close to full. Looked at on load and every minute.
import { bi, fill, h } from "/static/app.js";

const EVERY_MS = 60_000;
// One line each (the console's space belongs to the meeting); the full text opens on a tap.
const SHORT = {
  clock: ["Đồng hồ máy chủ chưa được đồng bộ.", "Server clock not synchronised."],
  disk: ["Ổ đĩa dữ liệu sắp đầy.", "Data disk nearly full."],
};

export function watchSystem(box) {
  async function look() {
    let body;
    try {
      body = await (await fetch("/api/health", { credentials: "same-origin" })).json();
    } catch {
      return; // unreachable: the connection banner already says so
    }
    const warnings = (body.warnings || []).filter((w) => w.part in SHORT);
    fill(box, warnings.map((w) => h("details", { class: "system-warning", "data-part": w.part },
      h("summary", {}, ...bi(...SHORT[w.part])), h("p", {}, ...bi(w.message, w.message_en)))));
  }
  look();
  setInterval(look, EVERY_MS);
}
