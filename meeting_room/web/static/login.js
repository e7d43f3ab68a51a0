// Log in, then go where the person was heading (a path on this server only) or to their meetings.
import { api, $ } from "/static/app.js";

function destination() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/meetings";
}

api("GET", "/api/auth/me").then(() => location.replace(destination()), () => {});

if (new URLSearchParams(location.search).get("ended")) {
  $("#result").replaceChildren("Phiên làm việc đã kết thúc (hết hạn, đã đăng xuất hoặc liên kết mời bị thu hồi). Hãy đăng nhập lại hoặc xin liên kết mời mới.",
    document.createElement("br"), Object.assign(document.createElement("span"), { className: "en", textContent: "Your session has ended (expired, logged out, or the invitation link was revoked). Log in again or ask for a new link." }));
}

$("#login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target), out = $("#result"), button = ev.submitter;
  button.disabled = true;
  out.textContent = "";
  try {
    await api("POST", "/api/auth/login", { username: f.get("username"), password: f.get("password") });
    location.replace(destination());
  } catch (err) {
    out.replaceChildren(err.message, document.createElement("br"), Object.assign(document.createElement("span"), { className: "en", textContent: err.messageEn }));
    button.disabled = false;
  }
});
