/*
 * Background jobs on a page (lms.tasks: submit_job, GET /jobs/<id>, /jobs/<id>/download).
 *
 * Markup (labels come from the page's template, so they are translated there):
 *
 *   <form method="post" action="..." data-job-form="#export-job"> ...csrf... </form>
 *   <div id="export-job" data-job-url=""            (or the status URL of a running job)
 *        data-job-label-queued="Menunggu giliran…" data-job-label-running="Sedang dibuat…"
 *        data-job-label-done="Selesai" data-job-label-failed="Gagal"
 *        data-job-autodownload>                      (optional: start the download when done)
 *     <div class="progress" hidden><div class="progress-bar" data-job-bar></div></div>
 *     <span data-job-text></span>
 *     <a data-job-download hidden>Unduh</a>
 *   </div>
 *
 * The form is posted with fetch; its view answers 202 with the job's status JSON
 * (lms.tasks.job_response). The box then polls the status URL (1 s, slowing to 5 s) until
 * the job is done or failed. Missing parts of the box (bar, text, link) are created.
 *
 * From other scripts: LenteraJobs.watch(box, url, {onUpdate, onDone, onFail}) and
 * LenteraJobs.submit(form, box) (both return a Promise of the final status).
 */
(function () {
  "use strict";

  function part(box, attr, make) {
    var found = box.querySelector("[" + attr + "]");
    if (!found) {
      found = make();
      box.appendChild(found.wrapper || found);
      found = found.inner || found;
    }
    return found;
  }

  function parts(box) {
    var bar = part(box, "data-job-bar", function () {
      var wrapper = document.createElement("div");
      wrapper.className = "progress my-2";
      wrapper.setAttribute("role", "progressbar");
      var inner = document.createElement("div");
      inner.className = "progress-bar";
      inner.setAttribute("data-job-bar", "");
      wrapper.appendChild(inner);
      return { wrapper: wrapper, inner: inner };
    });
    var text = part(box, "data-job-text", function () {
      var span = document.createElement("span");
      span.setAttribute("data-job-text", "");
      span.setAttribute("aria-live", "polite");
      return span;
    });
    var link = part(box, "data-job-download", function () {
      var a = document.createElement("a");
      a.className = "btn btn-sm btn-primary ms-2";
      a.setAttribute("data-job-download", "");
      a.textContent = "\u2B07";
      a.hidden = true;
      return a;
    });
    return { bar: bar, text: text, link: link };
  }

  function label(box, status) {
    return box.getAttribute("data-job-label-" + status) || status;
  }

  function show(box, job) {
    var p = parts(box);
    var progress = p.bar.parentElement;
    if (progress) {
      progress.hidden = false;
      progress.setAttribute("aria-valuenow", String(job.progress));
    }
    p.bar.style.width = job.progress + "%";
    p.bar.textContent = job.progress + "%";
    p.bar.classList.toggle("bg-danger", job.failed);
    p.bar.classList.toggle("bg-success", job.done);
    p.bar.classList.toggle("progress-bar-striped", !job.done && !job.failed);
    p.bar.classList.toggle("progress-bar-animated", !job.done && !job.failed);
    var text = label(box, job.status);
    if (job.message) {
      text += ": " + job.message;
    }
    p.text.textContent = text;
    if (job.download_url) {
      p.link.href = job.download_url;
      if (job.filename) {
        p.link.setAttribute("download", job.filename);
      }
      p.link.hidden = false;
    } else {
      p.link.hidden = true;
    }
    box.setAttribute("data-job-status", job.status);
  }

  function getJSON(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    });
  }

  function watch(box, url, callbacks) {
    callbacks = callbacks || {};
    url = url || box.getAttribute("data-job-url");
    box.setAttribute("data-job-url", url);
    var delay = 1000;
    var failures = 0;
    return new Promise(function (resolve, reject) {
      function poll() {
        getJSON(url).then(function (job) {
          failures = 0;
          show(box, job);
          if (callbacks.onUpdate) callbacks.onUpdate(job);
          if (job.done) {
            if (callbacks.onDone) callbacks.onDone(job);
            if (job.download_url && box.hasAttribute("data-job-autodownload")) {
              window.location.assign(job.download_url);
            }
            resolve(job);
          } else if (job.failed) {
            if (callbacks.onFail) callbacks.onFail(job);
            resolve(job);
          } else {
            delay = Math.min(5000, Math.round(delay * 1.3));
            window.setTimeout(poll, delay);
          }
        }).catch(function (error) {
          failures += 1;
          if (failures >= 5) {
            parts(box).text.textContent = label(box, "failed");
            reject(error);
          } else {
            window.setTimeout(poll, 2000 * failures);
          }
        });
      }
      poll();
    });
  }

  function submit(form, box) {
    var buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    return fetch(form.action, {
      method: (form.method || "post").toUpperCase(),
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.status_url) {
          var text = parts(box).text;
          text.textContent = body.message || label(box, "failed");
          throw new Error(String(response.status));
        }
        show(box, body);
        return watch(box, body.status_url);
      });
    }).finally(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  function init(root) {
    (root || document).querySelectorAll("form[data-job-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var box = document.querySelector(form.getAttribute("data-job-form"));
        if (!box || !window.fetch) {
          return; // an ordinary post, answered by the server
        }
        event.preventDefault();
        submit(form, box).catch(function () { /* shown in the box */ });
      });
    });
    (root || document).querySelectorAll("[data-job-url]").forEach(function (box) {
      if (box.getAttribute("data-job-url") && !box.hasAttribute("data-job-status")) {
        watch(box).catch(function () { /* shown in the box */ });
      }
    });
  }

  window.LenteraJobs = { watch: watch, submit: submit, init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
})();
