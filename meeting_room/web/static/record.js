// One meeting's record for the secretary, chair and clerks: downloads, the recording, the
// transcript, the minutes (read, edit, save versions), the two signatures, verification. The
// signing form comes below the editor, and only for the person whose signature the minutes wait for.
import { ApiError, act, api, clock, fill, fmtDate, fmtDateTime, fmtTime, h, header, sendFile, showError, toast, twoTaps, whoAmI, $ } from "/static/app.js";
import { mountNotice } from "/static/notice.js";
import { KEY_PROBLEM } from "/static/signing_key.js";
import { signatureImageControl } from "/static/signature_images.js";
import { statsTable } from "/static/speaking_stats.js";

const meetingId = location.pathname.split("/").pop();
const base = `/api/meetings/${meetingId}`;
let me, meeting, minutes, transcript = null, archive = null, recordings = [], noticeUnsigned = false;

// The downloads that exist: the minutes once they can be read, the transcript's files once there is a transcript.
function renderFiles() {
  const link = (href, label) => h("a", { class: "button", href, download: "" }, label);
  const links = [
    minutes ? [link(`${base}/minutes.pdf`, "Biên bản (PDF)"), link(`${base}/minutes.docx`, "Biên bản (Word)")] : [],
    transcript?.lines.length ? [link(`${base}/transcript.docx`, "Lời phát biểu (Word)"), link(`${base}/transcript?format=srt`, "Phụ đề (SRT)"),
      link(`${base}/transcript?format=txt`, "Văn bản (TXT)")] : [],
  ].flat();
  // sealed and intact: good news; altered: an alarm; not sealed yet: the normal state of a recent meeting, neutral
  const tone = !archive?.sealed ? "" : archive.ok ? "ok" : "bad";
  fill($("#files"), h("h2", {}, "Tải về ", h("span", { class: "en" }, "Downloads")),
    links.length ? h("div", { class: "row" }, links) : h("p", { class: "muted", id: "no-files" }, "Chưa có tệp để tải về. ", h("span", { class: "en" }, "Nothing to download yet.")),
    archive ? h("p", {}, h("span", { class: tone ? `badge ${tone}` : "badge", id: "archive-state" }, archive.sealed ? (archive.ok ? "Hồ sơ lưu trữ nguyên vẹn" : "Hồ sơ lưu trữ bị thay đổi!") : "Chưa niêm phong lưu trữ"),
      " ", h("span", { class: "en" }, archive.sealed ? (archive.ok ? "Archive intact" : "Archive altered!") : "Not sealed yet: the chair's signature seals it"),
      archive.sealed ? ` ${archive.files} tệp` : "", archive.problems.length ? h("ul", {}, archive.problems.map((p) => h("li", {}, `${p.file}: ${p.message}`))) : null) : null,
    sealAgain());
}

// Both signatures are there but the record is not sealed: the seal that follows the chair's signature did not
// complete (a file missing, the disk full), or is still copying the recordings. A record keeper seals by two taps
// (it cannot be undone; a seal under way is waited for, then found done), told first of a notice left unsigned.
function sealAgain() {
  if (meeting?.state !== "minutes_signed" || archive?.sealed || !meeting.can.edit_minutes) return null;
  const button = h("button", { type: "button", class: "primary" }, "Niêm phong lưu trữ ", h("span", { class: "en" }, "Seal the archive"));
  button.addEventListener("click", () => twoTaps(button, "Chạm lần nữa để niêm phong / Tap again to seal", () => act(button, async () => {
    const r = await api("POST", `${base}/archive`);
    toast(`Đã niêm phong hồ sơ lưu trữ (${r.files} tệp).`, "ok", `The record is sealed (${r.files} files).`);
    await loadMeta();
  })));
  return h("div", { class: "card warn", id: "seal-again" },
    h("p", {}, "Biên bản đã đủ hai chữ ký nhưng hồ sơ chưa được niêm phong lưu trữ. Sau khi niêm phong, hồ sơ không thay đổi được nữa. ",
      h("span", { class: "en" }, "The minutes carry both signatures but the record is not sealed yet. Once sealed, nothing in it can change.")),
    noticeUnsigned ? h("p", { id: "seal-again-notice" }, "Thông báo kết luận đã soạn nhưng chưa ký: sau khi niêm phong sẽ không ký được nữa. ",
      h("a", { href: "#notice" }, "Ký thông báo trước"), h("span", { class: "en" }, " The conclusion notice is written but not signed; sign it first.")) : null,
    button);
}

function renderPlayer(play) {
  const audio = h("audio", { controls: true, preload: "metadata", id: "audio", style: "width:100%" });
  const pick = h("select", { "aria-label": "Bản ghi", id: "recording-pick" }, recordings.map((r) => h("option", { value: `${base}/recordings/${r.recording_id}/file`, dataset: { id: r.recording_id } }, `${r.filename} (${clock(r.duration_s)})`)));
  pick.addEventListener("change", () => { audio.src = pick.value; });
  fill($("#player"), h("h2", {}, "Bản ghi âm ", h("span", { class: "en" }, "Recording")),
    recordings.length ? [pick, audio, ...(transcribeTools(pick) ?? [])] : h("p", { class: "muted", id: "no-recording" }, "Cuộc họp chưa có bản ghi. ", h("span", { class: "en" }, "No recording yet.")),
    uploadTool());
  if (play) { audio.src = play; pick.value = play.split("#")[0]; }
  else if (recordings.length) audio.src = pick.value;
}

// The chair or secretary adds a recording made elsewhere (a recorder, a phone, a video of the session); a
// room with microphones records by itself. A refused file says why in the card, where it stays.
function uploadTool() {
  if (!meeting.can.run_meeting || meeting.state === "archived") return null;
  const limit = me?.upload_limits?.recording_mb;
  const input = h("input", { type: "file", id: "recording-file", accept: "audio/*,video/*,.wav,.mp3,.flac,.ogg,.opus,.m4a,.aac,.mp4,.mkv,.webm,.mov" });
  const bar = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Đang tải bản ghi lên" });
  const problem = h("p", { id: "recording-problem", class: "badge bad", role: "alert", hidden: true });
  const say = (vi, en) => { problem.replaceChildren(h("span", {}, vi), " ", h("span", { class: "en" }, en)); problem.hidden = false; };
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    problem.hidden = true;
    if (limit && file.size > limit * 1_048_576) { // refused here: the server would answer only after the whole file
      input.value = "";
      return say(`Tệp ${file.name} lớn hơn ${limit} MB, mức lớn nhất máy chủ nhận.`, `${file.name} is over ${limit} MB, the largest the server accepts.`);
    }
    input.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    try {
      const r = await sendFile("POST", `${base}/recordings`, file, (f) => { bar.value = Math.round(f * 100); });
      toast(`Đã tải lên ${r.filename} (${clock(r.duration_s)}).`, "ok", `Uploaded ${r.filename}.`);
      recordings = await api("GET", `${base}/recordings`);
      renderPlayer(`${base}/recordings/${r.recording_id}/file`);
    } catch (err) {
      if (err instanceof ApiError) say(err.message, err.messageEn || "");
      else showError(err);
    } finally { input.disabled = false; bar.hidden = true; input.value = ""; }
  });
  return h("div", { id: "recording-upload" },
    h("label", { for: "recording-file" }, "Tải lên bản ghi ", h("span", { class: "en" }, "Upload a recording")), input, bar,
    // what is accepted comes from the server, which checks it: one list, in one place
    h("p", { class: "muted", id: "recording-accepted" }, `${me?.upload_limits?.recording_formats ?? ""}${limit ? `; tối đa ${limit} MB, ${me.upload_limits.recording_hours} giờ` : ""}. `,
      // a day's upload is taken, but voices are told apart only in a shorter one (a walk-through expected it of the whole day)
      limit ? `Người nói được nhận theo giọng với bản ghi đến ${me.upload_limits.diarization_hours} giờ; dài hơn: chọn người cho từng kênh. ` : "",
      h("span", { class: "en" }, `${me?.upload_limits?.recording_formats_en ?? ""}${limit ? `; at most ${limit} MB, ${me.upload_limits.recording_hours} hours; speakers are told apart by voice up to ${me.upload_limits.diarization_hours} hours` : ""}.`)), problem);
}

// The final transcription of the chosen recording, in the background: the jobs list below says how far it
// is. A transcript already made is replaced when the new one is done, and the names given to its voices
// go with it: that takes a second tap.
function transcribeTools(pick) {
  if (!meeting.can.run_meeting || meeting.state === "archived") return null;
  const count = h("select", { "aria-label": "Số người nói", id: "speaker-count" },
    h("option", { value: "" }, "Tự nhận số người nói / Speakers: automatic"), [...Array(12)].map((_, i) => h("option", { value: String(i + 1) }, `${i + 1} người nói / ${i + 1} speaker${i ? "s" : ""}`)));
  const go = h("button", { type: "button", class: "primary", id: "transcribe", title: "Bản phiên âm mới thay bản cũ khi xong; tên đã đặt cho người nói phải đặt lại. / A new transcript replaces the old one; voices are named again." },
    "Phiên âm bản ghi này ", h("span", { class: "en" }, "Transcribe"));
  const channels = channelMap(pick);
  const start = () => act(go, async () => {
    const body = { recording_id: pick.selectedOptions[0].dataset.id };
    if (count.value) body.num_speakers = Number(count.value);
    const map = Object.fromEntries([...channels.querySelectorAll("select[data-channel]")].filter((s) => s.value).map((s) => [s.dataset.channel, s.value]));
    if (Object.keys(map).length) body.channels = map;
    await api("POST", `${base}/transcription`, body);
    toast("Đã bắt đầu phiên âm; lời phát biểu hiện ra khi xong.", "ok", "Transcription started; the transcript appears when it is done.");
    await renderTranscript();
  });
  go.addEventListener("click", () => {
    if (transcript?.kind === "final" && transcript.lines.length) {
      // the new transcript replaces the one shown, of whichever recording: said on the button, as a tablet shows no title
      const shown = recordings.find((r) => r.recording_id === transcriptRecording)?.filename;
      const chosen = recordings.find((r) => r.recording_id === pick.selectedOptions[0]?.dataset.id)?.filename;
      twoTaps(go, shown && chosen && shown !== chosen ? `Chạm lần nữa: thay bản phiên âm của ${shown} bằng của ${chosen}` : "Chạm lần nữa để phiên âm lại / Tap again", start);
    }
    else start();
  });
  return [channels, h("div", { class: "row" }, count, go)]; // the options, then the tap
}

// A recording with one microphone per seat (a channel each): whoever sat at a channel is its speaker,
// named from the start, instead of a voice told apart and named afterwards (only the API could say it:
// a walk-through). Optional; shown for the chosen recording when it has several channels (up to 32:
// a larger desk is mapped through the API).
const MAX_CHANNELS_SHOWN = 32;
let participants = null;
function channelMap(pick) {
  const box = h("details", { id: "channel-map", hidden: true });
  const draw = async () => {
    const r = recordings.find((x) => x.recording_id === pick.selectedOptions[0]?.dataset.id);
    box.hidden = !r || r.channels < 2 || r.channels > MAX_CHANNELS_SHOWN;
    if (box.hidden) return fill(box);
    participants ??= await api("GET", `${base}/participants`).catch(() => null);
    const people = participants || [];
    fill(box, h("summary", {}, `Mỗi kênh một micro: ${r.channels} kênh `, h("span", { class: "en" }, `One microphone per channel: ${r.channels} channels`)),
      // (what the pass does: with a map, only the mapped channels are transcribed, and nothing is diarized)
      h("p", { class: "muted" }, "Chọn người ngồi ở micro của mỗi kênh: lời trên kênh đó mang tên họ, và chỉ những kênh đã chọn người được phiên âm. Để trống tất cả: cả bản ghi được phiên âm, người nói được nhận theo giọng. ",
        h("span", { class: "en" }, "Pick who sat at each channel's microphone: its speech carries their name, and only the channels given a person are transcribed. All empty: the whole recording is transcribed, speakers told apart by voice.")),
      h("ul", { class: "plain channel-list" }, [...Array(r.channels)].map((_, i) => h("li", { class: "row" },
        h("label", { for: `channel-${i}`, class: "grow" }, `Kênh ${i + 1} `, h("span", { class: "en" }, `Channel ${i + 1}`)),
        h("select", { id: `channel-${i}`, dataset: { channel: String(i) } }, h("option", { value: "" }, "— Không chọn / none —"),
          people.map((p) => h("option", { value: p.member_id }, p.title ? `${p.full_name} (${p.title})` : p.full_name)))))));
  };
  pick.addEventListener("change", draw);
  draw();
  return box;
}

// A line's time (and a voice's "Nghe") plays the recording its transcript was made from: with several
// recordings the player may hold another one, whose same second is someone else speaking.
let transcriptRecording = null;
function seek(seconds) {
  const audio = $("#audio");
  if (!audio) return;
  const wanted = transcriptRecording && `${base}/recordings/${transcriptRecording}/file`;
  const pick = $("#recording-pick");
  if (wanted && pick && [...pick.options].some((o) => o.value === wanted) && pick.value !== wanted) {
    pick.value = wanted;
    audio.src = `${wanted}#t=${seconds}`; // the media fragment: it starts there once loaded
  } else audio.currentTime = seconds;
  audio.play().catch(() => {});
}

// Where each final transcription of a recording stands: waiting for a worker, running (how far),
// done, failed (with its reason) or stopped. The API says; the page only words it.
const JOB_STATUS = {
  queued: ["Đang chờ máy phiên âm", "Queued", ""],
  running: ["Đang phiên âm", "Running", ""],
  done: ["Đã xong", "Done", "ok"],
  failed: ["Thất bại", "Failed", "bad"],
  stopped: ["Đã dừng", "Stopped", ""],
};
let jobsTimer = null;

function jobsBlock(passes) {
  const finals = passes.filter((p) => p.kind === "final");
  if (!finals.length) return null;
  return h("ul", { id: "transcription-jobs", class: "plain" }, finals.map((p) => {
    const [vi, en, tone] = JOB_STATUS[p.status] || [p.status, p.status, ""];
    const share = p.status === "running" && p.progress != null ? ` ${Math.round(p.progress * 100)}%` : "";
    const tries = p.tries > 1 ? ` · lần thử ${p.tries} / try ${p.tries}` : "";
    return h("li", { "data-status": p.status },
      h("span", { class: tone ? `badge ${tone}` : "badge" }, `${vi}${share}`), " ", h("span", { class: "en" }, en), " ",
      h("span", { class: "muted" }, `${recordingName(p.recording_id)}${fmtDateTime(p.started_at)}${tries}`),
      p.status === "failed" && p.error ? h("p", { class: "badge bad", role: "status" }, p.error) : null);
  }));
}

// which recording a pass is of, named on its line: with several, two "Đã xong" said nothing (a walk-through)
const recordingName = (id) => { const r = recordings.find((x) => x.recording_id === id); return r ? `${r.filename} · ` : ""; };

const jobsUnderWay = (passes) => passes.some((p) => p.kind === "final" && (p.status === "queued" || p.status === "running"));

// While a final transcription runs, only its status is redrawn (every 5 s): a redraw of the whole transcript
// would throw away a speaker's name being chosen or typed. Once it ends, the transcript it made is drawn.
async function refreshJobs() {
  let passes;
  try { passes = await api("GET", `${base}/transcription`); } catch (err) { return showError(err); }
  if (!jobsUnderWay(passes)) return renderTranscript();
  const shown = $("#transcription-jobs"), fresh = jobsBlock(passes);
  if (shown && fresh) shown.replaceWith(fresh);
  jobsTimer = setTimeout(refreshJobs, 5000);
}

async function renderTranscript() {
  let t, passes = [];
  try {
    t = transcript = await api("GET", `${base}/transcript`);
    passes = await api("GET", `${base}/transcription`);
  } catch (err) { return showError(err); }
  transcriptRecording = passes.find((p) => p.pass_id === t.pass_id)?.recording_id || null;
  renderFiles();
  clearTimeout(jobsTimer);
  if (jobsUnderWay(passes)) jobsTimer = setTimeout(refreshJobs, 5000);
  const naming = await speakersBlock(t);
  fill($("#transcript"), h("h2", {}, "Lời phát biểu ", h("span", { class: "en" }, "Transcript")), jobsBlock(passes),
    t.lines.length ? h("div", { class: "captions", style: "max-height: 28rem" }, t.lines.map((l) => h("p", {},
      h("button", { type: "button", class: "link time", onclick: () => seek(l.start), "aria-label": `Nghe từ ${clock(l.start)}` }, clock(l.start)), " ",
      h("span", { class: "who" }, `${l.speaker || "Người nói"}: `), l.text)))
      : h("p", { class: "muted" }, "Chưa có lời phát biểu.", " ", h("span", { class: "en" }, "No transcript yet.")),
    naming);
  await renderSpeakingStats();
}

// The chair or secretary names each voice of the transcript by tap: a voice nobody enrolled ("Người nói 2"),
// or one named wrongly. A participant from the list, or any other name (a guest); every line of the voice
// follows. "Nghe" plays the voice's first words, so that whoever names it can tell who it is.
let namingOpen = null; // null: open while a voice has no name
async function speakersBlock(t) {
  if (!meeting.can.run_meeting || meeting.state === "archived" || !t.pass_id) return null;
  const voices = new Map(); // cluster -> { name, member_id, anonymous, seconds, first }
  for (const s of t.speakers) voices.set(s.cluster, { name: s.name, member_id: s.member_id, anonymous: s.source === "anonymous", seconds: 0, first: null });
  for (const l of t.lines) {
    if (!l.cluster) continue;
    if (!voices.has(l.cluster)) voices.set(l.cluster, { name: null, member_id: null, anonymous: true, seconds: 0, first: null });
    const v = voices.get(l.cluster);
    v.seconds += Math.max(0, l.end - l.start);
    if (v.first === null) v.first = l.start;
  }
  if (!voices.size) return null;
  const people = await api("GET", `${base}/participants`).catch(() => []);
  const unnamed = [...voices.values()].filter((v) => v.anonymous).length;
  const block = h("details", { id: "speaker-names", open: namingOpen ?? unnamed > 0 },
    h("summary", {}, "Đặt tên người nói ", h("span", { class: "en" }, "Name the speakers"),
      unnamed ? [" ", h("span", { class: "badge warn" }, `${unnamed} chưa có tên `, h("span", { class: "en" }, `${unnamed} unnamed`))] : null),
    h("p", { class: "muted" }, "Chọn người đã nói giọng này; mọi dòng của giọng đó đổi theo. ",
      h("span", { class: "en" }, "Pick who spoke with this voice; every line of the voice follows.")),
    h("ul", { class: "plain speaker-list" }, [...voices].map(([cluster, v]) => speakerRow(t.pass_id, cluster, v, people))));
  // a redraw after a save keeps it as the user left it (a tap on its summary; not the page's own opening of it)
  block.querySelector("summary").addEventListener("click", () => { namingOpen = !block.open; });
  return block;
}

function speakerRow(passId, cluster, v, people) {
  const OTHER = "__other__";
  const id = `speaker-${cluster}`;
  const pick = h("select", { id, name: "member" },
    h("option", { value: "" }, "— Chọn người nói / choose —"),
    people.map((p) => h("option", { value: p.member_id, selected: p.member_id === v.member_id }, p.title ? `${p.full_name} (${p.title})` : p.full_name)),
    h("option", { value: OTHER, selected: !v.anonymous && !v.member_id && !!v.name }, "Người khác… / someone else"));
  const other = h("input", { name: "name", maxlength: 255, placeholder: "Họ tên, chức vụ", "aria-label": `Tên người nói khác cho ${v.name || cluster}`,
    value: !v.anonymous && !v.member_id && v.name ? v.name : "", hidden: pick.value !== OTHER });
  pick.addEventListener("change", () => { other.hidden = pick.value !== OTHER; if (!other.hidden) other.focus(); });
  const form = h("form", { class: "row speaker-row", "data-cluster": cluster },
    h("label", { for: id, class: "grow" }, h("b", {}, v.name || "Người nói chưa có tên"), " ",
      h("span", { class: "muted" }, `đã nói ${clock(v.seconds)}`)),
    v.first !== null ? h("button", { type: "button", onclick: () => seek(v.first), "aria-label": `Nghe giọng ${v.name || cluster}` }, "Nghe ", h("span", { class: "en" }, "Listen")) : null,
    pick, other,
    h("button", { type: "submit", class: "primary" }, "Lưu tên ", h("span", { class: "en" }, "Save")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = pick.value === OTHER ? { name: other.value.trim().normalize("NFC") } : pick.value ? { member_id: pick.value } : null;
    if (!body || (body.name !== undefined && !body.name)) {
      return toast(pick.value === OTHER ? "Hãy nhập tên người nói." : "Hãy chọn người nói.", "error", pick.value === OTHER ? "Type the speaker's name." : "Choose the speaker.");
    }
    act(ev.submitter, async () => {
      await api("PUT", `${base}/transcript/${encodeURIComponent(passId)}/speakers/${encodeURIComponent(cluster)}`, body);
      const named = body.name || people.find((p) => p.member_id === body.member_id)?.full_name || "";
      toast(`Đã đặt tên người nói: ${named}.`, "ok", `Speaker named: ${named}.`);
      await renderTranscript();
    });
  });
  return h("li", {}, form);
}

// Who spoke how much, from the same transcript: turns, time and share per speaker.
async function renderSpeakingStats() {
  let stats;
  try { stats = await api("GET", `${base}/speaking-stats`); } catch (err) { return showError(err); }
  fill($("#speaking-stats"), h("h2", {}, "Thống kê phát biểu ", h("span", { class: "en" }, "Speaking statistics")),
    statsTable(stats, ["Chưa có lời phát biểu để thống kê. ", h("span", { class: "en" }, "No transcript to count yet.")]));
}

async function loadMinutes(version) {
  try { minutes = await api("GET", `${base}/minutes${version ? `?version=${version}` : ""}`); } catch (err) {
    if (err.status === 403) { // a draft others may not read yet: when it can be read, not a refusal (a walk-through read one)
      fill($("#minutes"), h("h2", {}, "Biên bản ", h("span", { class: "en" }, "Minutes")),
        h("p", { class: "muted", id: "minutes-later" }, "Biên bản sẽ hiện ở đây khi thư ký và chủ tọa đã ký xong. ", h("span", { class: "en" }, "The minutes appear here once the secretary and the chair have signed them.")));
      fill($("#signatures"), h("h2", {}, "Chữ ký số ", h("span", { class: "en" }, "Digital signatures")), h("p", { class: "muted" }, "Chưa có chữ ký. ", h("span", { class: "en" }, "No signatures yet.")),
        h("details", {}, h("summary", {}, "Kiểm tra một tệp PDF đã ký"), uploadVerify()));
      return;
    }
    return showError(err);
  }
  renderMinutes();
  renderSignatures();
  renderSign();
  renderFiles();
}

function renderMinutes() {
  const m = minutes, ro = !m.editable;
  // signed or read-only minutes read as text, whole, not in small boxes that scroll (a phone showed three lines of each)
  const shown = (id, value, label) => h("div", { class: "minutes-text", id, role: "group", "aria-label": label }, value || "—");
  const field = (name, label, value, textarea, placeholder) => [h("label", { for: `m-${name}` }, label),
    ro ? shown(`m-${name}`, name === "closing" ? m.closing_printed : value, typeof label === "string" ? label : label[0].trim())
      : textarea ? h("textarea", { id: `m-${name}`, name, rows: 3, placeholder }, value) : h("input", { id: `m-${name}`, name, value })];
  const versions = h("select", { "aria-label": "Phiên bản" }, h("option", { value: "" }, "Bản mới nhất"), m.versions.map((v) => h("option", { value: v, selected: v === m.version && m.version !== Math.max(...m.versions) }, `Phiên bản ${v}`)));
  versions.addEventListener("change", () => loadMinutes(versions.value));
  const form = h("form", { id: "minutes-form" },
    field("number", ["Số biên bản ", h("span", { class: "en" }, "Number")], m.number), field("place", ["Địa điểm ", h("span", { class: "en" }, "Place")], m.place),
    // what an empty field prints, said in it: the secretary saw a blank "Kết thúc" and a PDF with a sentence in it
    field("opening", ["Mở đầu ", h("span", { class: "en" }, "Opening")], m.opening, true, "Để trống: bản in không có đoạn mở đầu / left empty: none is printed"),
    m.sections.map((s) => h("div", { class: "section" }, h("h3", {}, s.title),
      ro ? shown(`m-section-${s.item_id}`, s.text, `Nội dung: ${s.title}`)
        : h("textarea", { name: `section:${s.item_id}`, rows: 6, "aria-label": `Nội dung: ${s.title}` }, s.text),
      s.polls.map((p) => h("div", { class: "muted" }, h("b", {}, `Biểu quyết: ${p.title}`), ` — ${p.outcome}. ${p.reason}`)))),
    field("closing", ["Kết thúc ", h("span", { class: "en" }, "Closing")], m.closing, true, `Để trống, bản in ghi: “${m.closing_printed}” / left empty, the documents print this`),
    field("recipients", ["Nơi nhận (mỗi dòng một nơi) ", h("span", { class: "en" }, "Recipients, one a line")], m.recipients.join("\n"), true),
    !ro ? h("div", { class: "row" }, h("button", { type: "submit", class: "primary big", id: "save-minutes" }, "Lưu phiên bản mới ", h("span", { class: "en" }, "Save a new version")),
      h("a", { class: "button", id: "minutes-preview", href: `${base}/minutes.pdf${m.version ? `?version=${m.version}` : ""}`, target: "_blank", rel: "noopener" },
        "Xem bản in (PDF) ", h("span", { class: "en" }, "Preview"))) : null);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form), sections = {};
    for (const [k, v] of f.entries()) if (k.startsWith("section:")) sections[k.slice(8)] = String(v);
    const body = { base_version: m.version, number: f.get("number"), place: f.get("place"), opening: f.get("opening"), closing: f.get("closing"),
      recipients: String(f.get("recipients")).split("\n").map((s) => s.trim()).filter(Boolean), sections };
    act(ev.submitter, async () => { const r = await api("PUT", `${base}/minutes`, body); toast(`Đã lưu phiên bản ${r.version}.`, "ok", `Saved version ${r.version}.`); await loadMinutes(); });
  });
  fill($("#minutes"), h("div", { class: "row" }, h("h2", { class: "grow", id: "minutes-heading" }, m.version ? `Biên bản — phiên bản ${m.version}` : "Biên bản — bản nháp tự động"), m.versions.length ? versions : null),
    ro ? h("p", { class: "badge" }, m.signatures.length ? "Đã ký: không sửa được nữa" : "Chỉ xem") : null, form);
}

const ROLE_VI = { secretary: "Thư ký", chair: "Chủ tọa" };
const ROLE_EN = { secretary: "The secretary", chair: "The chair" };
const nextSigner = (m) => (m.signatures.length === 0 ? "secretary" : m.signatures.length === 1 ? "chair" : null);

// Below the editor, for the one whose signature the minutes wait for: their signature image, the
// passphrase of a certificate kept on the server, or the command for a USB token on their computer.
async function renderSign() {
  const card = $("#sign"), m = minutes, next = nextSigner(m);
  card.hidden = !m.can_sign;
  if (!m.can_sign) return fill(card);
  const sign = h("form", { id: "sign-form" },
    h("label", { for: "passphrase" }, `Ký với vai trò ${ROLE_VI[next]}: mật khẩu của chứng thư số`, h("span", { class: "en" }, " certificate passphrase (used once, never stored)")),
    h("input", { id: "passphrase", type: "password", autocomplete: "off", required: true }),
    h("button", { type: "submit", class: "primary big" }, "Ký số biên bản"));
  sign.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(ev.submitter, async () => {
      try {
        const r = await api("POST", `${base}/minutes/sign`, { passphrase: $("#passphrase").value });
        if (r.seal_problem) toast(`Đã ký biên bản, nhưng chưa niêm phong được hồ sơ: ${r.seal_problem}`, "error", `Signed, but the record is not sealed yet: ${r.seal_problem_en}`);
        else toast(r.sealed ? "Đã ký. Hồ sơ cuộc họp đã được niêm phong lưu trữ." : "Đã ký biên bản.", "ok", r.sealed ? "Signed; the record is sealed." : "Signed.");
      } finally { await Promise.all([loadMinutes(), loadMeta()]); } // whatever came back, the page shows what is stored now
    });
  });
  const image = await api("GET", `/api/members/${me.id}/signature-image/info`).catch(() => null);
  const imageSlot = h("div", { id: "my-signature-image" });
  const drawImage = (current) => fill(imageSlot, signatureImageControl("signature", me.id, current, { label: "Ảnh chữ ký của bạn", onChange: drawImage }));
  drawImage(image);
  const key = m.signing_key;
  // the chair's signature seals the record: said before it, with the conclusion notice's state (a walk-through's
  // chair signed, and the automatic notice could never be signed afterwards)
  let sealNote = null;
  if (next === "chair") {
    const notice = await api("GET", `${base}/notice`).catch(() => null);
    const unsigned = notice && !notice.signature;
    sealNote = h("p", { class: unsigned ? "card warn" : "note", id: "seal-warning" },
      "Chữ ký của chủ tọa niêm phong hồ sơ cuộc họp: sau đó không sửa, không ký thêm được gì. ",
      unsigned ? ["Thông báo kết luận chưa ký: nếu cuộc họp ban hành thông báo, hãy ", h("a", { href: "#notice" }, "ký thông báo kết luận"), " trước. "] : null,
      h("span", { class: "en" }, "The chair's signature seals the meeting's record; nothing can be changed or signed after it.",
        unsigned ? " The conclusion notice is not signed: if the meeting issues one, sign it first." : ""));
  }
  fill(card, h("h2", {}, `Ký biên bản — ${ROLE_VI[next]} `, h("span", { class: "en" }, "Sign the minutes")),
    h("p", { class: "muted" }, "Chữ ký số hiện ảnh chữ ký, họ tên, chức vụ và thời gian ký (Nghị định 30/2020/NĐ-CP). ", h("span", { class: "en" }, "A digital signature shows the signature image, name, title and time of signing (Decree 30/2020).")),
    sealNote,
    key === "server" ? sign : h("p", { class: key === "token" ? "note" : "error", id: "signing-key" }, (KEY_PROBLEM[key] || KEY_PROBLEM.none)()),
    h("details", { id: "token-signing", open: key === "token" }, h("summary", {}, "Ký bằng thiết bị ký số (USB token) ", h("span", { class: "en" }, "Sign with a USB token")),
      h("p", {}, "Khóa bí mật không rời khỏi token. Trên máy tính của bạn (đã cài meeting-room và trình điều khiển PKCS#11 của token), chạy:"),
      h("pre", { class: "wrap" }, `meeting-room sign ${meetingId} --server ${location.origin} --username ${me.username || "…"} --pkcs11-module <thư viện PKCS#11 của token>`),
      h("p", { class: "muted" }, "Máy chủ kiểm tra tệp đã ký (đúng bản biên bản, đúng chứng thư số đã đăng ký) trước khi lưu; tải lại trang này sau khi ký. ", h("span", { class: "en" }, "The server checks the signed file (the right minutes, the registered certificate) before keeping it; reload this page after signing."))),
    h("details", {}, h("summary", {}, "Ảnh chữ ký ", h("span", { class: "en" }, "Signature image")), imageSlot));
}

function renderSignatures() {
  const m = minutes, next = nextSigner(m);
  fill($("#signatures"), h("h2", {}, "Chữ ký số ", h("span", { class: "en" }, "Digital signatures")),
    m.signatures.length ? h("ul", { class: "plain" }, m.signatures.map((s) => h("li", {}, h("b", {}, ROLE_VI[s.role] || s.role), ` đã ký lúc ${fmtDateTime(s.signed_at)}`,
      s.timestamped ? " (có dấu thời gian)" : "", " ", h("span", { class: "en" }, `${ROLE_EN[s.role] || s.role} signed${s.timestamped ? ", time-stamped" : ""}`))))
      : h("p", { class: "muted" }, "Chưa có chữ ký. ", h("span", { class: "en" }, "No signatures yet.")),
    m.can_sign ? h("p", { class: "muted" }, h("a", { href: "#sign" }, `Đến lượt bạn ký (${ROLE_VI[next]}): mẫu ký ở dưới biên bản.`))
      : next && meeting.state === "closed" ? h("p", { class: "muted" }, `Chờ ${ROLE_VI[next]} ký. `, h("span", { class: "en" }, `Waiting for ${(ROLE_EN[next] || next).toLowerCase()} to sign.`)) : null,
    m.signatures.length ? h("button", { type: "button", id: "verify", onclick: (ev) => act(ev.currentTarget, verify) }, "Kiểm tra chữ ký ", h("span", { class: "en" }, "Check the signatures")) : null,
    h("div", { id: "verify-result", role: "status" }),
    h("details", {}, h("summary", {}, "Kiểm tra một tệp PDF đã ký ", h("span", { class: "en" }, "Check a signed PDF")), uploadVerify()));
}

// Intact and valid, unchanged, made with a certificate the administrator registered for a signer, but no
// configured root vouches for it (a server without trust_roots): not the red of a tampered file (a
// walk-through's clerk read "KHÔNG ĐẠT" as tampering). Any other certificate stays red: it may be forged.
const unvouched = (r) => !r.ok && r.valid && !r.changed_after_signing && !r.trusted && r.registered;
function reports(list) {
  return h("ul", { class: "plain" }, list.map((r) => h("li", {},
    h("span", { class: `badge ${r.ok ? "ok" : unvouched(r) ? "warn" : "bad"}` },
      r.ok ? ["Hợp lệ ", h("span", { class: "en" }, "Valid")] : unvouched(r) ? ["Nguyên vẹn, chưa xác minh nguồn cấp chứng thư ", h("span", { class: "en" }, "Intact; issuer not verified")]
        : ["KHÔNG ĐẠT ", h("span", { class: "en" }, "Failed")]), " ", r.summary,
    r.problems.length ? h("ul", {}, r.problems.map((p) => h("li", {}, p))) : null)));
}

async function verify() { fill($("#verify-result"), reports(await api("GET", `${base}/minutes/verify`))); }

function uploadVerify() {
  const input = h("input", { type: "file", accept: "application/pdf,.pdf", id: "verify-file" });
  const out = h("div", { role: "status" });
  const form = h("form", {}, input, h("button", { type: "submit" }, "Kiểm tra ", h("span", { class: "en" }, "Check")), out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!input.files.length) return toast("Hãy chọn một tệp PDF.", "error", "Choose a PDF file.");
    const data = new FormData();
    data.append("file", input.files[0]);
    // a refusal is said here, under the form, where the answer was awaited (a toast at the top of a
    // phone's screen went unseen: a walk-through)
    act(ev.submitter, async () => {
      try { fill(out, reports(await api("POST", "/api/minutes/verify", data))); } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        fill(out, h("p", { class: "badge bad", role: "alert", id: "verify-refused" }, err.message, " ", h("span", { class: "en" }, err.messageEn)));
      }
    });
  });
  return form;
}

// When the meeting was actually held (its session's start to its close), not only when it was planned.
function held(m) {
  const en = (text) => h("span", { class: "en" }, text);
  if (m.state === "cancelled") { // not "planned": it will not be held (a walk-through)
    const why = (m.cancel_reason || "").replace(/[.。]+$/, "");
    return [`Đã hủy, không họp${why ? `: ${why}` : ""}. `, en("Cancelled: it will not be held.")];
  }
  if (!m.started_at) return [`Dự kiến: ${fmtDateTime(m.starts_at)} (chưa họp). `, en("Planned, not held yet.")];
  if (!m.closed_at) return [`Họp từ ${fmtDateTime(m.started_at)}. `, en("In progress.")];
  const end = fmtDate(m.closed_at) === fmtDate(m.started_at) ? fmtTime(m.closed_at) : fmtDateTime(m.closed_at);
  return [`Đã họp: ${fmtDateTime(m.started_at)} – ${end}. `, en("Held.")];
}

async function loadMeta() {
  meeting = await api("GET", base);
  const cancelled = meeting.state === "cancelled";
  fill($("#title"), meeting.title, " ", h("span", { class: cancelled ? "badge bad" : "badge" }, meeting.state_label), " ",
    h("span", { class: cancelled ? "cancel-reason" : "muted", id: "held" }, held(meeting)));
  // a meeting never held has no recording, minutes or archive to come: its cards said they were still due
  document.querySelector("main > .grid").hidden = cancelled;
  archive = await api("GET", `${base}/archive`).catch(() => null);
  noticeUnsigned = false;
  if (meeting.state === "minutes_signed" && !archive?.sealed && meeting.can.edit_minutes) {
    const notice = await api("GET", `${base}/notice`).catch(() => null);
    noticeUnsigned = !!(notice && notice.version && !notice.signature); // a notice someone saved, not the automatic draft
  }
  renderFiles();
}

(async () => {
  try { me = await whoAmI(); } catch { return; }
  header(me, ["Hồ sơ cuộc họp", "Meeting record"], "clerk");
  try {
    await loadMeta();
    recordings = await api("GET", `${base}/recordings`).catch(() => []);
    renderPlayer(new URLSearchParams(location.search).get("play"));
    await Promise.all([renderTranscript(), loadMinutes(), mountNotice($("#notice"), meetingId)]);
    // a search hit links to #minutes or #transcript: the browser looked for it while the page was
    // still empty, so go there now that it is filled
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.scrollIntoView({ block: "start" });
  } catch (err) { showError(err); }
})();
