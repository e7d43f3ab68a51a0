// QR codes of the links the chair console hands out (a participant's invitation, the hall display's
// link), drawn by the server (segno, SVG) in the answer that creates the link: shown next to the link,
// and a print view, one sheet of paper with the code, whom and what it is for, and until when.
import { fmtDateTime, h } from "/static/app.js";

const PRINTER = "M7 9V3h10v6M7 17H4v-7h16v7h-3M7 14h10v7H7z";

if (!document.querySelector("link[data-qr]")) document.head.append(h("link", { rel: "stylesheet", href: "/static/qr.css", "data-qr": "" }));

function printerIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: "1.1em", height: "1.1em", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon" })) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PRINTER);
  svg.append(path);
  return svg;
}

// The code beside a link, with a button to its print view. sheet: what printQr() prints.
export function qrFigure(sheet) {
  if (!sheet.qr) return null;
  return h("figure", { class: "qr" },
    h("img", { src: sheet.qr, alt: `Mã QR của ${sheet.what}`, width: 168, height: 168 }),
    h("figcaption", {}, "Quét bằng điện thoại để mở liên kết. ", h("span", { class: "en" }, "Scan to open the link."),
      h("button", { type: "button", class: "qr-print-open", onclick: () => printQr(sheet) }, printerIcon(), " In mã QR ", h("span", { class: "en" }, "Print the QR code"))));
}

// The print view: a sheet over the page (on screen: "In" and "Đóng"); on paper, the sheet alone.
// sheet: { meeting, what, who, hint, url, qr, expires_at }
export function printQr(sheet) {
  document.getElementById("qr-print")?.remove();
  const close = () => { view.remove(); document.documentElement.classList.remove("qr-printing"); };
  const view = h("div", { id: "qr-print", class: "qr-print", role: "dialog", "aria-label": `In mã QR: ${sheet.what}` },
    h("div", { class: "qr-print-actions row" },
      h("button", { type: "button", class: "primary", id: "qr-print-go", onclick: () => window.print() }, printerIcon(), " In"),
      h("button", { type: "button", id: "qr-print-close", onclick: close }, "Đóng")),
    h("article", { class: "qr-page" },
      h("p", { class: "qr-meeting" }, sheet.meeting),
      h("h1", {}, sheet.what),
      sheet.who ? h("p", { class: "qr-who" }, sheet.who) : null,
      h("img", { src: sheet.qr, alt: `Mã QR của ${sheet.what}` }),
      h("p", { class: "qr-hint" }, sheet.hint),
      h("p", { class: "qr-url" }, sheet.url),
      sheet.expires_at ? h("p", {}, `Dùng được đến ${fmtDateTime(sheet.expires_at)}.`, " ", h("span", { class: "en" }, `Valid until ${fmtDateTime(sheet.expires_at)}.`)) : null,
      h("p", { class: "qr-care" }, "Ai có liên kết này là vào được: giữ tờ giấy như giữ chìa khóa; khi không dùng nữa, thu hồi liên kết trên bàn điều hành. ",
        h("span", { class: "en" }, "Whoever has this link gets in: keep the paper like a key, and revoke the link when it is no longer needed."))));
  document.body.append(view);
  document.documentElement.classList.add("qr-printing");
  view.querySelector("#qr-print-go").focus();
  return view;
}
