// Quiz page: a countdown for timed quizzes (the server enforces the limit; this only
// helps the learner) and a warning before sending with unanswered questions.

const form = document.getElementById("quiz-form");

function answered(fieldset) {
  const inputs = fieldset.querySelectorAll("input, select");
  for (const el of inputs) {
    if (el.type === "hidden") continue;
    if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") return true;
  }
  return false;
}

let submitting = false;
if (form) {
  form.addEventListener("submit", (event) => {
    if (submitting) return;
    const unanswered = [...form.querySelectorAll("fieldset.quiz-question")].filter((f) => !answered(f));
    const button = document.getElementById("submit-quiz");
    if (unanswered.length && button && !window.confirm(button.dataset.confirmUnanswered)) {
      event.preventDefault();
      unanswered[0].scrollIntoView({ behavior: "smooth" });
      return;
    }
    submitting = true;
  });
}

const timer = document.querySelector(".quiz-timer");
if (timer && form) {
  const deadline = Date.parse(timer.dataset.deadline);
  const value = timer.querySelector(".quiz-timer-value");
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    const m = Math.floor(left / 60);
    const s = String(left % 60).padStart(2, "0");
    value.textContent = `${m}:${s}`;
    if (left <= 60) timer.classList.replace("text-bg-warning", "text-bg-danger");
    if (left === 0) {
      clearInterval(handle);
      submitting = true;
      form.submit();
    }
  };
  const handle = setInterval(tick, 1000);
  tick();
}
