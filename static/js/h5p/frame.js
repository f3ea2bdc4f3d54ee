// The H5P player frame (sandboxed: an opaque origin without Lentera's cookies).
// Plays the package with h5p-standalone and sends the xAPI statements H5P emits to the
// LRS with the launch credential of this module, as the launched learner, in the
// learner's registration and launch session. Tells the page around it (postMessage)
// whether each statement was recorded and when the activity was completed.

// The frame is an opaque origin, where reading localStorage or sessionStorage throws;
// H5P reads them (its copy and paste), so they are kept in memory for this page here.
(function () {
  "use strict";
  function memoryStorage() {
    var items = {};
    return {
      getItem: function (k) { return Object.prototype.hasOwnProperty.call(items, k) ? items[k] : null; },
      setItem: function (k, v) { items[k] = String(v); },
      removeItem: function (k) { delete items[k]; },
      clear: function () { items = {}; },
      key: function (i) { return Object.keys(items)[i] || null; },
      get length() { return Object.keys(items).length; }
    };
  }
  ["localStorage", "sessionStorage"].forEach(function (name) {
    try {
      void window[name];
    } catch (e) {
      Object.defineProperty(window, name, { value: memoryStorage(), configurable: true });
    }
  });
})();

window.addEventListener("load", function () {
  "use strict";
  var SESSION_EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";
  var cfg = null;
  try {
    cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  } catch (e) {
    cfg = null;
  }
  var errorBox = document.getElementById("h5p-error");
  var preview = !!(cfg && cfg.preview); // a trainer's preview: nothing is recorded
  if (!cfg || (!cfg.auth && !preview) || !window.H5PStandalone) {
    errorBox.hidden = false;
    errorBox.textContent = "H5P tidak dapat dimuat.";
    return;
  }
  history.replaceState(null, "", location.pathname); // the credential leaves the address

  function tell(kind, detail) {
    window.parent.postMessage({ source: "lentera-h5p", kind: kind, detail: detail || null },
                              cfg.parent);
  }

  function completes(statement) {
    var verb = (statement.verb && statement.verb.id) || "";
    var result = statement.result || {};
    var root = statement.object && statement.object.id === cfg.activity;
    return root && (/\/(completed|passed)$/.test(verb) || result.completion === true);
  }

  var queue = Promise.resolve();
  function send(original) {
    if (preview) return;
    var verb = (original.verb && original.verb.id) || "";
    if (/\/interacted$/.test(verb)) return; // every click: noise for the record
    var statement = JSON.parse(JSON.stringify(original));
    statement.actor = cfg.actor;
    var context = statement.context || {};
    context.registration = cfg.registration;
    context.extensions = context.extensions || {};
    context.extensions[SESSION_EXT] = cfg.session;
    statement.context = context;
    delete statement.authority;
    queue = queue.then(function () {
      return fetch(cfg.endpoint + "statements", {
        method: "POST",
        headers: { "Authorization": cfg.auth, "X-Experience-API-Version": "1.0.3",
                   "Content-Type": "application/json" },
        body: JSON.stringify(statement)
      }).then(function (response) {
        if (!response.ok) throw new Error("LRS " + response.status);
        tell(completes(statement) ? "completed" : "recorded", verb);
      }).catch(function () {
        tell("failed", verb);
      });
    });
  }

  // The learner's place in the content (H5P's "current state") is kept in the LRS State
  // API, per learner, registration and activity: read before the content starts, written
  // after each statement, every 15 seconds when it changed, and when the page is left.
  var STATE_ID = "h5p.state";
  var stateUrl = cfg.endpoint + "activities/state?" + new URLSearchParams({
    stateId: STATE_ID, activityId: cfg.activity, agent: JSON.stringify(cfg.actor),
    registration: cfg.registration
  }).toString();
  var stateHeaders = { "Authorization": cfg.auth, "X-Experience-API-Version": "1.0.3" };
  var lastSaved = null;
  function saveState(keepalive) {
    if (preview) return;
    var instance = window.H5P && window.H5P.instances && window.H5P.instances[0];
    if (!instance || typeof instance.getCurrentState !== "function") return;
    var state;
    try {
      state = JSON.stringify(instance.getCurrentState() || {});
    } catch (e) {
      return;
    }
    if (state === lastSaved) return;
    lastSaved = state;
    fetch(stateUrl, {
      method: "PUT", keepalive: !!keepalive, body: state,
      headers: Object.assign({ "Content-Type": "application/json" }, stateHeaders)
    }).catch(function () { lastSaved = null; });
  }

  (preview ? Promise.resolve(null) : fetch(stateUrl, { headers: stateHeaders }))
    .then(function (response) {
      return response && response.ok ? response.text() : null;
    }).catch(function () {
      return null;
    }).then(start);

  function start(saved) {
    lastSaved = saved;
    var container = document.getElementById("h5p-container");
    new window.H5PStandalone.H5P(container, {
      h5pJsonPath: cfg.content,
      // As H5P core reads it: the state of the content (sub-content 0) as a JSON string.
      contentUserData: saved ? [{ state: saved }] : undefined,
      // H5P core restores a state only when saving is on; with no user and no AJAX
      // address it saves nothing itself (saveState above does).
      saveFreq: 15,
      frameJs: cfg.player + "/frame.bundle.js",
      frameCss: cfg.player + "/styles/h5p.css",
      xAPIObjectIRI: cfg.activity,
      embedType: "div", // the frame is the sandbox already; no second frame inside it
      frame: false, copyright: false, export: false, embed: false, icon: false,
      fullScreen: false
    }).then(function () {
      window.H5P.externalDispatcher.on("xAPI", function (event) {
        send(event.data.statement);
        setTimeout(saveState, 0);
      });
      setInterval(saveState, 15000);
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden") saveState(true);
      });
      window.addEventListener("pagehide", function () { saveState(true); });
      tell("ready");
    }).catch(function (error) {
      console.error("H5P", error);
      errorBox.hidden = false;
      errorBox.textContent = "H5P tidak dapat dimuat.";
      tell("error");
    });
  }
});
