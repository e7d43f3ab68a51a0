// Log in, then go where the person was heading (a path on this server only) or to their meetings.
// A temporary password (an administrator's reset, an import) must be replaced first: the server
// refuses everything else for that session, so the page asks for a new one before going on.
import { api, bi, h, $ } from "/static/app.js";

// Read as the browser will read it: "/\evil.example" or "/<tab>/evil.example" leave the server
// (backslashes count as slashes, tabs and newlines are dropped), and a lure that asks to log in
// again must not lead to a look-alike page.
function destination() {
  const next = new URLSearchParams(location.search).get("next") || "";
  if (!next.startsWith("/") || /[\\\u0000-\u001f\u007f]/.test(next)) return "/meetings";
  const url = new URL(next, location.origin); // "/.//evil.example" resolves to the path "//evil.example"
  return url.origin === location.origin && !url.pathname.startsWith("//") ? url.href : "/meetings";
}

// The answer comes into view: on a phone it sits under the button, below the screen (walk-through).
const say = (out, vi, en) => { out.replaceChildren(vi, h("br"), h("span", { class: "en" }, en)); out.scrollIntoView({ block: "nearest" }); };

// The login form gives way to this one; ``current`` is the temporary password when it was just typed.
function askForNewPassword(member, username, current) {
  const out = h("div", { id: "change-result", role: "alert" });
  const form = h("form", { id: "change" },
    h("h2", {}, bi("Đặt mật khẩu mới", "Choose a new password")),
    h("p", {}, "Bạn đang dùng mật khẩu tạm thời do quản trị viên cấp. Hãy đặt mật khẩu của riêng mình trước khi tiếp tục."),
    h("p", { class: "en" }, "You are using a temporary password from an administrator. Choose your own before going on."),
    current ? null : [h("label", { for: "current" }, bi("Mật khẩu tạm thời", "Temporary password")),
      h("input", { id: "current", name: "current", type: "password", autocomplete: "current-password", required: true })],
    h("label", { for: "new-password" }, bi("Mật khẩu mới", "New password")),
    h("input", { id: "new-password", name: "new_password", type: "password", autocomplete: "new-password", minlength: 10, required: true }),
    h("label", { for: "repeat-password" }, bi("Nhập lại mật khẩu mới", "Repeat the new password")),
    h("input", { id: "repeat-password", name: "repeat", type: "password", autocomplete: "new-password", minlength: 10, required: true }),
    h("p", { class: "muted" }, "Ít nhất 10 ký tự, khó đoán: một cụm từ dài của riêng bạn là tốt nhất. ",
      h("span", { class: "en" }, "At least 10 characters, hard to guess: a long phrase of your own is best.")),
    h("p", {}, h("button", { type: "submit", class: "primary big" }, "Đổi mật khẩu / Change password")),
    out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form), button = ev.submitter;
    out.textContent = "";
    if (f.get("new_password") !== f.get("repeat")) return say(out, "Hai lần nhập mật khẩu mới không khớp.", "The two new passwords differ.");
    button.disabled = true;
    try {
      await api("POST", `/api/members/${member.id}/password`, { current_password: current || f.get("current"), new_password: f.get("new_password") });
      // the change ends every session of this person, this one too: log in with the new password
      await api("POST", "/api/auth/login", { username, password: f.get("new_password") });
      location.replace(destination());
    } catch (err) {
      say(out, err.message, err.messageEn);
      button.disabled = false;
    }
  });
  $("#login").replaceWith(form);
  $("#new-password").focus();
}

api("GET", "/api/auth/me").then((me) => {
  if (me.must_change_password) askForNewPassword(me, me.username, null);
  else if (me.only_meeting) { // opened from an invitation link: the member logs in with their own account, to vote
    say($("#result"), "Bạn đang theo dõi cuộc họp bằng liên kết mời. Để biểu quyết, hãy đăng nhập bằng tài khoản và mật khẩu của chính bạn.",
      "You are following the meeting from an invitation link. To vote, log in with your own username and password.");
  } else location.replace(destination());
}, () => {});

// Why this page opened by itself, said at the top (on a phone the form's own messages are below the fold).
const ended = new URLSearchParams(location.search).get("ended");
if (ended) {
  const why = $("#why");
  why.hidden = false;
  if (ended === "meeting") { // only a link's session ends with its meeting: an account's own login still works
    say(why, "Cuộc họp đã kết thúc nên liên kết mời không còn hiệu lực. Nếu có tài khoản, hãy đăng nhập để xem lại cuộc họp.",
      "The meeting has ended, so the invitation link no longer works. If you have an account, log in to see the meeting again.");
  } else {
    say(why, "Phiên làm việc đã kết thúc (hết hạn, đã đăng xuất hoặc liên kết mời bị thu hồi). Hãy đăng nhập lại hoặc xin liên kết mời mới.",
      "Your session has ended (expired, logged out, or the invitation link was revoked). Log in again or ask for a new link.");
  }
}

$("#login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target), out = $("#result"), button = ev.submitter;
  button.disabled = true;
  out.textContent = "";
  try {
    const r = await api("POST", "/api/auth/login", { username: f.get("username"), password: f.get("password") });
    if (r.must_change_password) return askForNewPassword(r.member, f.get("username"), f.get("password"));
    location.replace(destination());
  } catch (err) {
    say(out, err.message, err.messageEn);
    button.disabled = false;
  }
});
