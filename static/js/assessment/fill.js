// Questionnaire helper: "fill up to level N" sets the behaviours of levels 1..N to
// "usually" (2) and those above to "not shown" (0), for the rater to refine.
(function () {
  "use strict";
  document.querySelectorAll("select.fill-upto").forEach(function (picker) {
    picker.addEventListener("change", function () {
      if (picker.value === "") {
        return;
      }
      const upto = parseInt(picker.value, 10);
      const section = picker.closest("section");
      section.querySelectorAll("input.answer").forEach(function (answer) {
        const wanted = parseInt(answer.dataset.level, 10) <= upto ? "2" : "0";
        answer.checked = answer.value === wanted;
      });
    });
  });
})();
