// The meetings a person may see, with the way into each: console, member page, record.
import { api, fill, fmtDateTime, h, header, showError, whoAmI, $ } from "/static/app.js";

const RUNNING = new Set(["scheduled", "open", "in_session", "adjourned"]);

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  header(me, "Phòng họp thông minh", "meetings");
  try {
    const meetings = await api("GET", "/api/meetings");
    const admin = me.roles.includes("admin");
    fill($("#meetings"), meetings.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Cuộc họp"), h("th", {}, "Thời gian"), h("th", {}, "Trạng thái"), h("th", {}, ""))),
      h("tbody", {}, meetings.map((m) => {
        const staff = admin || m.my_role === "chair" || m.my_role === "secretary";
        return h("tr", { dataset: { meeting: m.id } }, h("td", {}, h("b", {}, m.title)), h("td", {}, fmtDateTime(m.starts_at)),
          h("td", {}, h("span", { class: `badge ${m.state === "in_session" ? "live" : ""}` }, m.state_label)),
          h("td", { class: "row" },
            RUNNING.has(m.state) && staff ? h("a", { class: "button primary", href: `/chair/${m.id}` }, "Bàn điều hành") : null,
            RUNNING.has(m.state) && m.my_role ? h("a", { class: "button", href: `/member/${m.id}` }, "Vào họp") : null,
            !RUNNING.has(m.state) ? h("a", { class: "button", href: `/clerk/${m.id}` }, "Hồ sơ cuộc họp") : null));
      })))
      : h("p", { class: "muted" }, "Bạn chưa được mời vào cuộc họp nào."));
  } catch (err) { showError(err); }
})();
