// Seats for this meeting: who sits where, the room's usual occupant by default, changed here for
// this meeting only (a guest or a deputy in the usual occupant's place; a seat left empty). The seat
// microphones name whoever sits there. The API holds every rule and says who may change it.
import { ApiError, api, bi, fill, h } from "/static/app.js";

const DEFAULT = "", EMPTY = "-";

function seatRow(meetingId, seat, view, slot, redraw) {
  const usual = seat.usual ? seat.usual.full_name : "trống / empty";
  const chosen = !seat.overridden ? DEFAULT : seat.occupant ? seat.occupant.member_id : EMPTY;
  const id = `seat-${seat.seat_id}`;
  const select = h("select", { id, disabled: !view.can_edit },
    h("option", { value: DEFAULT, selected: chosen === DEFAULT }, `mặc định: ${usual}`),
    h("option", { value: EMPTY, selected: chosen === EMPTY }, "— Để trống / Empty —"),
    view.participants.map((p) => h("option", { value: p.member_id, selected: chosen === p.member_id }, p.full_name)));
  select.addEventListener("change", async () => {
    select.disabled = true;
    slot.hidden = true;
    const url = `/api/meetings/${meetingId}/seats/${encodeURIComponent(seat.seat_id)}`;
    try {
      redraw(select.value === DEFAULT ? await api("DELETE", url) : await api("PUT", url, { member_id: select.value === EMPTY ? null : select.value }));
      document.getElementById(id)?.focus();
    } catch (err) {
      const e = err instanceof ApiError ? err : { message: "Đã có lỗi trên trang.", messageEn: String(err) };
      fill(slot, h("span", {}, e.message), h("span", { class: "en" }, e.messageEn));
      slot.hidden = false;
      select.value = chosen;
      select.disabled = false;
    }
  });
  return h("li", { class: "seat-row", dataset: { seat: seat.label } },
    h("label", { for: id }, h("b", {}, seat.label)), select,
    seat.overridden ? h("span", { class: "badge changed" }, ...bi("Đã đổi", "Changed")) : null);
}

/** Show the meeting's seating in ``el`` and let its officers change it. */
export async function mountSeats(el, meetingId) {
  const slot = h("p", { class: "field-error", role: "alert", hidden: true });
  const draw = (view) => fill(el, slot, view.seats.length
    ? h("ul", { class: "plain seat-list", id: "seat-list" }, view.seats.map((s) => seatRow(meetingId, s, view, slot, draw)))
    : h("p", { class: "muted" }, ...bi("Phòng họp chưa có ghế (hoặc cuộc họp chưa chọn phòng).", "The room has no seats (or the meeting has no room).")));
  draw(await api("GET", `/api/meetings/${meetingId}/seats`));
}
