// Quiz builder: "Add a row" copies the last row of choices, pairs or items (empty).
const form = document.getElementById("question-form");
const button = form?.querySelector("[data-add-row]");
const fieldset = form?.querySelector("[data-rows]");
if (button && fieldset) {
  button.hidden = false;
  button.addEventListener("click", () => {
    const rows = fieldset.querySelectorAll(".builder-row");
    const last = rows[rows.length - 1];
    const copy = last.cloneNode(true);
    const index = rows.length;
    for (const input of copy.querySelectorAll("input")) {
      if (input.type === "radio" || input.type === "checkbox") {
        input.checked = false;
        input.value = String(index);
        input.id = `correct-${index}`;
      } else {
        input.value = "";
      }
    }
    const label = copy.querySelector("label.form-check-label");
    if (label) label.htmlFor = `correct-${index}`;
    last.after(copy);
    copy.querySelector("input:not([type=hidden]):not([type=radio]):not([type=checkbox])")?.focus();
  });
}
