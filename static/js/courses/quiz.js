// Quiz page: answers are saved on the server as they are given (restored on reload, graded
// if the time limit ends the attempt), a countdown for timed quizzes (the server enforces
// the limit; this only helps the learner) and a warning before sending with unanswered
// questions.

const form = document.getElementById("quiz-form");
const status = document.getElementById("quiz-save-status");

function answered(fieldset) {
  const inputs = fieldset.querySelectorAll("input, select");
  for (const el of inputs) {
    if (el.type === "hidden") continue;
    if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") return true;
  }
  return false;
}

// The question's fields as the form would send them: {name: [values]}; a field with no
// answer is sent empty, so clearing an answer is saved too.
function fieldsOf(fieldset) {
  const fields = {};
  for (const el of fieldset.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (el.type === "hidden" || el.name === "csrf_token") continue;
    if (!(el.name in fields)) fields[el.name] = [];
    if (el.type === "radio" || el.type === "checkbox") {
      if (el.checked) fields[el.name].push(el.value);
    } else if (el.value !== "") {
      fields[el.name].push(el.value);
    }
  }
  return fields;
}

function showStatus(text, tone) {
  if (!status) return;
  status.textContent = text;
  status.classList.toggle("text-danger", tone === "danger");
  status.classList.toggle("text-muted", tone !== "danger");
}

const dirty = new Map(); // question id -> change number
let changes = 0;
let lastRev = 0;
let inFlight = false;
let stopped = false;
let timer = null;
let retryDelay = 2000;

function csrfToken() {
  const field = form && form.querySelector("input[name=csrf_token]");
  return field ? field.value : "";
}

function payload() {
  const answers = {};
  for (const id of dirty.keys()) {
    const fieldset = form.querySelector(`fieldset[data-question="${CSS.escape(id)}"]`);
    if (fieldset) answers[id] = fieldsOf(fieldset);
  }
  lastRev = Math.max(lastRev + 1, Date.now());
  return { rev: lastRev, answers };
}

function schedule(delay) {
  if (stopped || !status) return;
  clearTimeout(timer);
  timer = setTimeout(save, delay);
}

async function save() {
  if (stopped || inFlight || dirty.size === 0) return;
  inFlight = true;
  const sent = new Map(dirty);
  const body = JSON.stringify(payload());
  showStatus(status.dataset.saving);
  try {
    const response = await fetch(status.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body,
    });
    if (response.ok) {
      const data = await response.json();
      for (const [id, change] of sent) if (dirty.get(id) === change) dirty.delete(id);
      retryDelay = 2000;
      showStatus(status.dataset.saved.replace("{time}", data.saved_at_text));
    } else if (response.status >= 500 || response.status === 429) {
      throw new Error(String(response.status));
    } else {
      let reason = String(response.status);
      try { reason = (await response.json()).message || reason; } catch (e) { /* not JSON */ }
      showStatus(status.dataset.refused.replace("{reason}", reason), "danger");
      if (response.status === 409) stopped = true; // submitted elsewhere, or time is up
      else for (const id of sent.keys()) dirty.delete(id);
    }
  } catch (e) {
    showStatus(status.dataset.offline, "danger");
    inFlight = false;
    schedule(retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
    return;
  }
  inFlight = false;
  if (dirty.size) schedule(300);
}

function changed(event, delay) {
  const fieldset = event.target.closest("fieldset[data-question]");
  if (!fieldset) return;
  dirty.set(fieldset.dataset.question, ++changes);
  schedule(delay);
}

let submitting = false;
if (form) {
  form.addEventListener("change", (event) => changed(event, 200));
  form.addEventListener("input", (event) => {
    if (event.target.tagName === "INPUT" && event.target.type === "text") changed(event, 800);
  });
  window.addEventListener("online", () => schedule(0));
  // Leaving with unsaved answers: one last try that outlives the page.
  window.addEventListener("pagehide", () => {
    if (submitting || stopped || dirty.size === 0 || !status) return;
    fetch(status.dataset.url, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload()),
    }).catch(() => {});
  });
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
    stopped = true;
  });
}

const countdown = document.querySelector(".quiz-timer");
if (countdown && form) {
  const deadline = Date.parse(countdown.dataset.deadline);
  const value = countdown.querySelector(".quiz-timer-value");
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    const m = Math.floor(left / 60);
    const s = String(left % 60).padStart(2, "0");
    value.textContent = `${m}:${s}`;
    if (left <= 60) countdown.classList.replace("text-bg-warning", "text-bg-danger");
    if (left === 0) {
      clearInterval(handle);
      if (!navigator.onLine) {
        // Offline: the server grades what was saved before the deadline.
        stopped = true;
        if (status) showStatus(status.dataset.timeup, "danger");
        return;
      }
      submitting = true;
      stopped = true;
      form.submit();
    }
  };
  const handle = setInterval(tick, 1000);
  tick();
}
