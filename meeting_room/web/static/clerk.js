// The clerk's archive: diacritics-insensitive search over transcripts, minutes, agendas and votes,
// each hit opening its meeting's record at the moment it was said (or at its minutes).
import { act, api, apiPage, dayOf, fill, fmtDateTime, fmtDay, fmtSpan, h, header, readBackDates, showError, whoAmI, $, clock } from "/static/app.js";
import { statsTable } from "/static/speaking_stats.js";

function hitLink(hit) {
  if (hit.link.includes("/recordings/")) return `/clerk/${hit.meeting_id}?play=${encodeURIComponent(hit.link)}`;
  return `/clerk/${hit.meeting_id}${hit.kind === "transcript" ? "#transcript" : "#minutes"}`; // the minutes state the agenda and the votes
}

const KIND = { transcript: "Lời phát biểu", minutes: "Biên bản", agenda: "Nội dung chương trình", poll: "Biểu quyết" };

function snippet(html) {
  // The server escapes the text and adds only <mark>: parse it as a template, never run it.
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content;
}

function hitItem(hit) {
  return h("li", { class: "hit" },
    h("a", { href: hitLink(hit) }, h("b", {}, hit.meeting_title), ` — ${fmtDay(hit.meeting_date)}`),
    h("div", { class: "muted" }, KIND[hit.kind] || hit.kind, hit.agenda_title && hit.kind !== "agenda" ? ` · ${hit.agenda_title}` : "",
      hit.speaker ? ` · ${hit.speaker}` : "", hit.start_s !== null ? ` · ${clock(hit.start_s)}` : ""),
    h("div", {}, snippet(hit.snippet_html)));
}

const HITS = 20; // a page of search results

async function search(form, button) {
  const f = new FormData(form);
  const params = new URLSearchParams();
  for (const [k, v] of f.entries()) if (String(v).trim()) params.set(k, String(v).trim());
  await act(button, async () => {
    const r = await api("GET", `/api/search?${params}&limit=${HITS}`);
    const count = new Intl.NumberFormat("vi-VN").format(r.total);
    // a word found nearly everywhere: the hits are the best of the newest matches; a date, a body or a phrase narrows it
    fill($("#total"), !r.total ? `Không tìm thấy kết quả nào cho “${r.query}”.`
      : r.more ? [`Hơn ${count} kết quả cho “${r.query}”: xếp theo mức phù hợp trong ${count} kết quả mới nhất. Thêm ngày, cơ quan hoặc cụm từ trong ngoặc kép để tìm trong các cuộc họp cũ hơn. `,
        h("span", { class: "en" }, `More than ${r.total} results: ranked among the newest ${r.total}. Add a date, a body or a quoted phrase to reach older meetings.`)]
      : `${count} kết quả cho “${r.query}”`);
    fill($("#hits"), r.hits.map(hitItem));
    moreHits(params, r.total);
    history.replaceState(null, "", `?${params}`);
    // on a phone the filters fill the screen: the answer must come into view, not wait below it
    const total = $("#total");
    if (button && total.getBoundingClientRect().top > window.innerHeight * 0.6) total.scrollIntoView({ block: "start" });
  });
}

// "Xem thêm": the next page of the same search, appended below.
function moreHits(params, total) {
  $("#hits-more")?.remove();
  const shown = $("#hits").children.length;
  if (shown >= total) return;
  const more = h("button", { type: "button", id: "hits-more" }, "Xem thêm ", h("span", { class: "en" }, "More"));
  more.addEventListener("click", () => act(more, async () => {
    const r = await api("GET", `/api/search?${params}&limit=${HITS}&offset=${shown}`);
    $("#hits").append(...r.hits.map(hitItem));
    moreHits(params, r.total);
  }));
  $("#hits").after(more);
}

(async () => {
  let me;
  try { me = await whoAmI(); } catch { return; }
  header(me, ["Lưu trữ và tra cứu", "Archive and search"], "clerk");
  const form = $("#search");
  readBackDates(form);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); search(form, ev.submitter); });
  // the bodies a clerk files under (a council, its committees, the people's committee): one at a time, or all
  const bodies = await api("GET", "/api/bodies").catch(() => []);
  form.elements.body_id.append(...bodies.map((b) => h("option", { value: b.id }, b.name)));
  const given = new URLSearchParams(location.search);
  for (const [k, v] of given.entries()) if (form.elements[k]) { form.elements[k].value = v; form.elements[k].dispatchEvent(new Event("change")); }
  if (given.get("q")) search(form, null);
  try { await closedMeetings(); } catch (err) { showError(err); }
  try { await periodStats(me, bodies); } catch (err) { showError(err); }
})();

// Speaking statistics of a body over a period (its ended meetings): this month by default.
async function periodStats(me, bodies) {
  const form = $("#stats-form");
  fill(form.elements.body_id, bodies.map((b) => h("option", { value: b.id, selected: b.id === me.body_id }, b.name)));
  const today = dayOf(new Date().toISOString());
  readBackDates(form);
  form.elements.date_from.value = `${today.slice(0, 8)}01`;
  form.elements.date_to.value = today;
  for (const field of [form.elements.date_from, form.elements.date_to]) field.dispatchEvent(new Event("change"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const params = new URLSearchParams(new FormData(form));
    act(ev.submitter, async () => {
      const r = await api("GET", `/api/speaking-stats?${params}`);
      fill($("#stats-result"),
        h("p", { class: "muted", id: "stats-summary" }, `${r.meetings.length} cuộc họp đã kết thúc, từ ${fmtDay(r.date_from)} đến ${fmtDay(r.date_to)}.`),
        statsTable(r, ["Không có lời phát biểu nào trong các cuộc họp này. ", h("span", { class: "en" }, "No speech in these meetings.")]));
    });
  });
}

// When a meeting was held (from the opening of its session to its close), or else when it was planned.
const held = (m) => m.started_at ? fmtSpan(m.started_at, m.closed_at) : fmtDateTime(m.starts_at);

// The meetings that ended, newest first, a page at a time: "Xem thêm" appends the next page.
async function closedMeetings() {
  const list = h("ul", { class: "plain", id: "closed-list" });
  const more = h("button", { type: "button", id: "closed-more", hidden: true }, "Xem thêm ", h("span", { class: "en" }, "More"));
  const count = h("p", { class: "muted", id: "closed-count", role: "status" });
  let next = "/api/meetings?state=closed&state=minutes_signed&state=archived&limit=20";
  const page = async () => {
    const r = await apiPage(next);
    list.append(...r.items.map((m) => h("li", { class: "row" },
      h("a", { class: "grow", href: `/clerk/${m.id}` }, m.title), h("span", { class: "muted" }, held(m)), h("span", { class: "badge" }, m.state_label))));
    next = r.next;
    more.hidden = !next;
    fill(count, `${list.children.length} / ${r.total} cuộc họp`);
  };
  more.addEventListener("click", () => act(more, page));
  await page();
  fill($("#closed"), list.children.length ? [list, count, more] : h("p", { class: "muted" }, "Chưa có cuộc họp nào kết thúc. ", h("span", { class: "en" }, "No meeting has ended yet.")));
}
