// The invitation link's page: its one button is sent once. A second tap while the first is on its way
// makes the browser drop the first answer, and the session it carried, while the link is spent by it
// (a review): the member would be left with "already used".
const form = document.getElementById("join-form");
form?.addEventListener("submit", (e) => {
  if (form.dataset.sent) { e.preventDefault(); return; }
  form.dataset.sent = "1";
  setTimeout(() => { document.getElementById("join").disabled = true; }); // once the form's data is taken
});
