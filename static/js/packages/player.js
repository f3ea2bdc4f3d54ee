/* The SCORM player page: scorm-again holds the SCORM API of the package's version; the
 * SCO runs in a sandboxed frame (opaque origin) and reaches the API through scorm-again's
 * cross-frame bridge (CrossFrameLMS here, CrossFrameAPI in the frame).
 *
 * What the SCO does is kept as the ADL xAPI SCORM Profile lays out, with the launch
 * credential (bound to this learner, registration and SCO):
 * - the attempt's runtime data in the LRS State API (attempt-state document of the
 *   attempt: CMI data, location, suspend data, exit), at every Commit and Terminate;
 * - statements: initialized / resumed, scored, completed, passed, failed, responded
 *   (with the interaction's definition), suspended, terminated; scores are clamped to
 *   what xAPI allows (raw within min..max, scaled within -1..1).
 */
(function () {
  "use strict";
  var holder = document.getElementById("scorm-launch");
  var frame = document.getElementById("scorm-frame");
  if (!holder || !frame) { return; }
  var cfg = JSON.parse(holder.textContent);
  var is12 = cfg.version === "1.2";
  var ADL = "http://adlnet.gov/expapi/verbs/";
  var SESSION_EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";
  var ATTEMPT_STATE = "https://w3id.org/xapi/scorm/attempt-state";
  var M = is12
    ? { init: "LMSInitialize", finish: "LMSFinish", commit: "LMSCommit", set: "LMSSetValue",
        exit: "cmi.core.exit", location: "cmi.core.lesson_location",
        response: "student_response" }
    : { init: "Initialize", finish: "Terminate", commit: "Commit", set: "SetValue",
        exit: "cmi.exit", location: "cmi.location", response: "learner_response" };
  var statusLine = document.getElementById("scorm-status");
  var settings = { autocommit: false, lmsCommitUrl: false, logLevel: 4 };
  if (is12 && cfg.masteryOverride) { settings.mastery_override = true; }
  var api = is12 ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
  window.API = api;  /* for a SCO that finds the API by walking up (not across the sandbox) */
  api.loadFromFlattenedJSON(cfg.initial, "");

  /* Review (the part is done, or every attempt is used): the SCO runs, nothing is kept. */
  var review = cfg.mode === "review";
  var started = Date.now();
  var initialized = false;
  var finished = false;
  var navRequest = "";
  var reported = cfg.reported || {};
  reported.interactions = reported.interactions || {};
  var queue = Promise.resolve();

  function say(text) { if (statusLine) { statusLine.textContent = text; } }

  function flat() {
    var out = {};
    var all = api.getFlattenedCMI();
    Object.keys(all).forEach(function (key) {
      var value = all[key];
      if (value === null || value === undefined || typeof value === "object") { return; }
      out[key] = String(value);
    });
    return out;
  }

  function kept(values) {
    /* What is reloaded on resume: no counts, no session time, nothing the LMS sets. */
    var out = {};
    Object.keys(values).forEach(function (key) {
      if (/\._(children|count|version)$/.test(key) || /session_time$/.test(key) ||
          /(^|\.)(exit|entry|credit|mode|lesson_mode|student_id|student_name|learner_id|learner_name|launch_data)$/.test(key) ||
          /^cmi\.(student_data|scaled_passing_score|completion_threshold|max_time_allowed|time_limit_action)/.test(key)) {
        return;
      }
      out[key] = values[key];
    });
    return out;
  }

  function send(path, init) {
    init.headers = Object.assign({ "Authorization": cfg.auth,
                                   "X-Experience-API-Version": "1.0.3" }, init.headers || {});
    init.credentials = "omit";
    return fetch(cfg.endpoint + path, init).then(function (response) {
      if (!response.ok) { throw new Error("LRS answered " + response.status); }
      return response;
    });
  }

  function statement(verb, extra) {
    var s = {
      actor: cfg.actor,
      verb: { id: ADL + verb, display: { "en-US": verb } },
      object: { objectType: "Activity", id: cfg.sco.id,
                definition: { type: "http://adlnet.gov/expapi/activities/lesson",
                              name: { "und": cfg.sco.title } } },
      context: {
        registration: cfg.registration,
        contextActivities: {
          grouping: [{ objectType: "Activity", id: cfg.attempt,
                       definition: { type: "http://adlnet.gov/expapi/activities/attempt" } },
                     { objectType: "Activity", id: cfg.courseIri }],
          category: [{ objectType: "Activity", id: "https://w3id.org/xapi/scorm" }]
        },
        extensions: {}
      },
      timestamp: new Date().toISOString()
    };
    s.context.extensions[SESSION_EXT] = cfg.sessionId;
    return Object.assign(s, extra || {});
  }

  function num(value) {
    if (value === undefined || value === null || String(value).trim() === "") { return null; }
    var n = Number(value);
    return isFinite(n) ? n : null;
  }

  function score(v) {
    var p = is12 ? "cmi.core.score." : "cmi.score.";
    var raw = num(v[p + "raw"]), min = num(v[p + "min"]), max = num(v[p + "max"]);
    var scaled = is12 ? null : num(v[p + "scaled"]);
    if (is12 && raw !== null) { if (min === null) { min = 0; } if (max === null) { max = 100; } }
    if (min !== null && max !== null && min > max) { min = null; max = null; }
    var out = {};
    if (raw !== null) {
      if (min !== null && raw < min) { raw = min; }
      if (max !== null && raw > max) { raw = max; }
      out.raw = raw;
    }
    if (min !== null) { out.min = min; }
    if (max !== null) { out.max = max; }
    if (scaled === null && raw !== null && max !== null && max > 0 && (min === null || min >= 0)) {
      scaled = raw / max;
    }
    if (scaled !== null) {
      out.scaled = Math.round(Math.max(-1, Math.min(1, scaled)) * 10000) / 10000;
    }
    return Object.keys(out).length ? out : null;
  }

  function pattern(type, value) {
    /* SCORM 1.2 writes "a,b" and "1.a"; xAPI (like SCORM 2004) writes "a[,]b" and "1[.]a". */
    value = String(value);
    if (type === "true-false") {
      var v = value.toLowerCase();
      return (v === "t" || v === "1" || v === "true") ? "true" : "false";
    }
    if (is12 && (type === "choice" || type === "sequencing" || type === "matching")) {
      value = value.replace(/[{}]/g, "").split(",").map(function (part) {
        return type === "matching" ? part.replace(".", "[.]") : part;
      }).join("[,]");
    }
    return value;
  }

  var TYPES = ["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
               "sequencing", "likert", "numeric", "other"];

  function interactions(v) {
    var out = [];
    var done = {};
    Object.keys(v).forEach(function (key) {
      var m = /^cmi\.interactions\.(\d+)\.id$/.exec(key);
      if (!m || done[m[1]]) { return; }
      done[m[1]] = true;
      var n = "cmi.interactions." + m[1] + ".";
      var id = v[key];
      var response = v[n + M.response];
      if (!id || response === undefined || response === "") { return; }
      var result = (v[n + "result"] || "").toLowerCase();
      var mark = id + "|" + response + "|" + result;
      if (reported.interactions[mark]) { return; }
      reported.interactions[mark] = true;
      var type = TYPES.indexOf(v[n + "type"]) >= 0 ? v[n + "type"] : "other";
      var definition = { type: "http://adlnet.gov/expapi/activities/cmi.interaction",
                         interactionType: type,
                         name: { "und": v[n + "description"] || id } };
      var patterns = [];
      Object.keys(v).forEach(function (k) {
        if (k.indexOf(n + "correct_responses.") === 0 && /\.pattern$/.test(k) && v[k] !== "") {
          patterns.push(pattern(type, v[k]));
        }
      });
      if (patterns.length) { definition.correctResponsesPattern = patterns; }
      var res = { response: pattern(type, response) };
      if (result === "correct") { res.success = true; }
      if (result === "wrong" || result === "incorrect") { res.success = false; }
      out.push(statement("responded", {
        object: { objectType: "Activity",
                  id: cfg.sco.id + "/interactions/" + encodeURIComponent(id),
                  definition: definition },
        result: res
      }));
      out[out.length - 1].context.contextActivities.parent =
        [{ objectType: "Activity", id: cfg.sco.id }];
    });
    return out;
  }

  function outcomes(v) {
    var list = [];
    var sc = score(v);
    var key = sc ? JSON.stringify(sc) : "";
    if (sc && reported.score !== key) {
      reported.score = key;
      list.push(statement("scored", { result: { score: sc } }));
    }
    var status = is12 ? v["cmi.core.lesson_status"] : v["cmi.completion_status"];
    var completed = is12 ? ["completed", "passed", "failed"].indexOf(status) >= 0
                         : status === "completed";
    var success = is12 ? ((status === "passed" || status === "failed") ? status : "")
                       : (["passed", "failed"].indexOf(v["cmi.success_status"]) >= 0
                          ? v["cmi.success_status"] : "");
    if (completed && !reported.completed) {
      reported.completed = true;
      var r = { completion: true };
      if (sc) { r.score = sc; }
      list.push(statement("completed", { result: r }));
    }
    if (success && reported.success !== success) {
      reported.success = success;
      var rs = { success: success === "passed", completion: completed };
      if (sc) { rs.score = sc; }
      list.push(statement(success, { result: rs }));
    }
    return list;
  }

  function duration() {
    return "PT" + Math.max(0, Math.round((Date.now() - started) / 1000)) + "S";
  }

  function persist(terminating, forceSuspend) {
    if (review) { return queue; }
    var v = flat();
    var exit = forceSuspend ? "suspend" : (v[M.exit] || "");
    var doc = {
      exit: exit, terminated: !!terminating, location: v[M.location] || "",
      suspend_data: v["cmi.suspend_data"] || "", cmi: kept(v), reported: reported,
      updated: new Date().toISOString()
    };
    var main = outcomes(v);
    var answers = interactions(v);
    if (terminating) {
      if (exit === "suspend") { main.push(statement("suspended", { result: { duration: duration() } })); }
      main.push(statement("terminated", { result: { duration: duration() } }));
    }
    var qs = "activities/state?stateId=" + encodeURIComponent(ATTEMPT_STATE) +
      "&activityId=" + encodeURIComponent(cfg.attempt) +
      "&agent=" + encodeURIComponent(JSON.stringify(cfg.actor)) +
      "&registration=" + encodeURIComponent(cfg.registration);
    var keep = !!forceSuspend;
    queue = queue.then(function () {
      return send(qs, { method: "PUT", keepalive: keep,
                        headers: { "Content-Type": "application/json" },
                        body: JSON.stringify(doc) });
    }).then(function () {
      if (!answers.length) { return null; }
      return send("statements", { method: "POST", keepalive: keep,
                                  headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify(answers) });
    }).then(function () {
      if (!main.length) { return null; }
      return send("statements", { method: "POST", keepalive: keep,
                                  headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify(main) });
    }).then(function () {
      say(cfg.messages.saved);
    }).catch(function () {
      say(cfg.messages.saveFailed);
    });
    return queue;
  }

  api.on(M.init, function () {
    if (initialized) { return; }
    initialized = true;
    if (review) { return; }
    var first = [statement(cfg.resume ? "resumed" : "initialized")];
    queue = queue.then(function () {
      return send("statements", { method: "POST", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify(first) });
    }).catch(function () { say(cfg.messages.saveFailed); });
  });
  api.on(M.commit, function () { if (!finished) { persist(false, false); } });
  api.on(M.finish, function () {
    if (finished) { return; }
    finished = true;
    persist(true, false).then(afterFinish);
  });
  if (!is12) {
    api.on("SetValue.adl.nav.request", function (element, value) { navRequest = String(value || ""); });
  }

  function go(url) { if (url) { window.location.assign(url); } }

  function afterFinish() {
    var req = navRequest;
    if (req === "continue" && cfg.next) { return go(cfg.next); }
    if (req === "previous" && cfg.prev) { return go(cfg.prev); }
    var choice = /^\{target=([^}]+)\}(choice|jump)$/.exec(req);
    if (choice && cfg.items[choice[1]]) {
      return go(cfg.playBase.replace("MODULE", cfg.items[choice[1]]));
    }
    if (/^(exit|exitAll|suspendAll|abandon|abandonAll)$/.test(req)) { return go(cfg.courseUrl); }
    say(cfg.messages.finished);
    return null;
  }

  /* Only the package's frame (or frames inside it) may talk to the API. */
  window.addEventListener("message", function (ev) {
    var w = ev.source;
    var ok = false;
    try {
      for (var i = 0; w && i < 10; i += 1) {
        if (w === frame.contentWindow) { ok = true; break; }
        if (w === w.parent) { break; }
        w = w.parent;
      }
    } catch (e) { ok = false; }
    if (!ok) { ev.stopImmediatePropagation(); }
  }, true);
  /* eslint-disable-next-line no-new */
  new window.CrossFrameLMS(api, "*");

  function leave(url) {
    if (initialized && !finished) {
      finished = true;
      try { api[M.set](M.exit, "suspend"); } catch (e) { /* the SCO's own exit stays */ }
      persist(true, true).then(function () { go(url); });
      return;
    }
    queue.then(function () { go(url); });
  }

  document.querySelectorAll("#scorm-prev, #scorm-next, #scorm-exit, .scorm-choice")
    .forEach(function (link) {
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        leave(link.getAttribute("href"));
      });
    });
  window.addEventListener("pagehide", function () {
    if (initialized && !finished) {
      finished = true;
      persist(true, true);
    }
  });

  frame.src = cfg.contentUrl;
})();
