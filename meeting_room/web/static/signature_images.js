// Signature images (one per member) and seal images (one per body): transparent PNGs that the minutes'
// signatures show (Decree 30, appendix I). A control shows the current image on a checkered ground
// (so transparency is visible), takes a new PNG, or removes it; the server checks every file and
// says in place why one is refused. Mounted by itself on the admin page (#signature-images); the
// record page uses `signatureImageControl` for the signer's own image.
import { act, api, fill, h, toast, $ } from "/static/app.js";

const KINDS = {
  signature: { path: (id) => `/api/members/${id}/signature-image`, vi: "Ảnh chữ ký", en: "Signature image" },
  seal: { path: (id) => `/api/bodies/${id}/seal-image`, vi: "Ảnh con dấu", en: "Seal image" },
};

// One image's control: preview, choose a PNG and upload it, remove. `current`: the server's record or null.
export function signatureImageControl(kind, ownerId, current, { label = KINDS[kind].vi, onChange = () => {} } = {}) {
  const spec = KINDS[kind];
  const id = `${kind}-file-${ownerId}`;
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const preview = current
    ? h("img", { class: "signature-preview", src: `${spec.path(ownerId)}?v=${current.sha256}`, alt: `${label} hiện tại`, width: 240 })
    : h("p", { class: "muted" }, "Chưa có ảnh. ", h("span", { class: "en" }, "None yet."));
  const input = h("input", { id, type: "file", accept: "image/png", name: "file" });
  const form = h("form", { class: "signature-image" },
    preview,
    h("label", { for: id }, `${label} (PNG nền trong suốt, tối đa 1 MB) `, h("span", { class: "en" }, `${spec.en} (transparent PNG, up to 1 MB)`)),
    input, error,
    h("p", { class: "row" },
      h("button", { type: "submit" }, current ? "Thay ảnh" : "Tải ảnh lên"),
      current ? h("button", { type: "button", onclick: (ev) => act(ev.currentTarget, async () => {
        await api("DELETE", spec.path(ownerId));
        toast(`Đã xóa ${label.toLowerCase()}.`, "ok", `${spec.en} removed.`);
        onChange(null);
      }) }, "Xóa ảnh") : null));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!input.files.length) { fill(error, "Hãy chọn một tệp PNG. ", h("span", { class: "en" }, "Choose a PNG file.")); error.hidden = false; return; }
    act(ev.submitter, async () => {
      try {
        const saved = await api("PUT", spec.path(ownerId), new FormData(form));
        toast(`Đã lưu ${label.toLowerCase()}.`, "ok", `${spec.en} saved.`);
        onChange(saved);
      } catch (err) {
        if (!err.messageEn) throw err;
        fill(error, err.message, " ", h("span", { class: "en" }, err.messageEn)); // in place, beside the file
        error.hidden = false;
      }
    });
  });
  return form;
}

// The admin page's card: choose a member for their signature image, a body for its seal image.
async function adminCard(section, keep = {}) {
  const [members, bodies, images] = await Promise.all([api("GET", "/api/members"), api("GET", "/api/bodies"), api("GET", "/api/signature-images")]);
  const has = (kind, id) => images.find((i) => i.kind === kind && i.owner_id === id) || null;
  const slot = { signature: h("div", { id: "signature-slot" }), seal: h("div", { id: "seal-slot" }) };
  const picker = (kind, list, name) => {
    const select = h("select", { id: `${kind}-owner` }, h("option", { value: "" }, "—"),
      list.map((x) => h("option", { value: x.id, selected: keep[kind] === x.id }, `${name(x)}${has(kind, x.id) ? " (đã có ảnh)" : ""}`)));
    const show = () => fill(slot[kind], select.value
      ? signatureImageControl(kind, select.value, has(kind, select.value), { onChange: () => adminCard(section, { [kind]: select.value }) }) : null);
    select.addEventListener("change", show);
    if (keep[kind]) show(); // after a change: the same member or body stays chosen
    return select;
  };
  fill(section,
    h("h2", {}, "Ảnh chữ ký và con dấu ", h("span", { class: "en" }, "Signature and seal images")),
    h("p", { class: "muted" }, "Chữ ký số của thư ký và chủ tọa hiện ảnh chữ ký của họ; chữ ký của chủ tọa (thay mặt cơ quan) có thêm ảnh con dấu đỏ đè lên khoảng 1/3 ảnh chữ ký bên trái (Nghị định 30/2020/NĐ-CP, Phụ lục I). ", h("span", { class: "en" }, "The secretary's and the chair's digital signatures show their signature images; the chair's (for the body) also has the red seal over the left third of the signature (Decree 30/2020, Annex I).")),
    h("label", { for: "signature-owner" }, "Thành viên ", h("span", { class: "en" }, "Member")), picker("signature", members, (m) => m.full_name), slot.signature,
    h("label", { for: "seal-owner" }, "Cơ quan ", h("span", { class: "en" }, "Body")), picker("seal", bodies, (b) => b.name), slot.seal);
}

const section = $("#signature-images");
if (section) adminCard(section).catch((err) => { if (err.status !== 401 && err.status !== 403) toast(err.message || String(err), "error", err.messageEn); });
