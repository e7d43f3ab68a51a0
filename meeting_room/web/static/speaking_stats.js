// Speaking statistics as a table (the record page's card, the clerk's period): per speaker their
// turns, speaking time and share of the speech as a bar. Drawn from the API's figures only.
import { h } from "/static/app.js";

// mm:ss (minutes past 59 keep counting: 75:03)
export const mmss = (s) => { s = Math.max(0, Math.round(s)); return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`; };
const percent = (share) => `${(share * 100).toLocaleString("vi-VN", { maximumFractionDigits: 1 })}%`;

export function statsTable(stats, empty) {
  if (!stats.speakers.length) return h("p", { class: "muted speaking-stats-empty" }, ...empty);
  const head = (vi, en, cls) => h("th", { scope: "col", class: cls }, vi, " ", h("span", { class: "en" }, en));
  return h("table", { class: "speaking-stats" },
    h("thead", {}, h("tr", {}, head("Người nói", "Speaker"), head("Lượt", "Turns", "num"), head("Thời gian", "Time", "num"), head("Tỉ lệ", "Share", "share"))),
    h("tbody", {}, stats.speakers.map((s) => h("tr", {},
      h("td", {}, h("div", { class: "who" }, s.name), h("div", { class: "muted small" }, `Lượt dài nhất ${mmss(s.longest_s)}`)),
      h("td", { class: "num" }, String(s.turns)),
      h("td", { class: "num" }, mmss(s.seconds)),
      h("td", { class: "share" }, h("div", { class: "bar", "aria-hidden": "true" }, h("span", { style: `width:${(s.share * 100).toFixed(1)}%` })), percent(s.share))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Tổng ", h("span", { class: "en" }, "Total")),
      h("td", { class: "num" }, String(stats.turns)), h("td", { class: "num" }, mmss(stats.total_s)), h("td", {}))));
}
