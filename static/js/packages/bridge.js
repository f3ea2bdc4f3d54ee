/* Inside a SCORM package's frame (a sandbox with an opaque origin): the SCORM API the
 * package finds as window.API (1.2) and window.API_1484_11 (2004) is scorm-again's
 * cross-frame client, which forwards every call to the player page by postMessage.
 * The client answers GetValue from a cache; it is primed here with the attempt's runtime
 * data (window.__lenteraScorm, written by Lentera into this file) so the package's first
 * calls (entry, location, suspend data) answer at once. */
(function () {
  "use strict";
  if (typeof window.CrossFrameAPI !== "function") { return; }
  var data = window.__lenteraScorm || {};
  var api = new window.CrossFrameAPI("*", window.top);
  var cmi = data.cmi || {};
  Object.keys(cmi).forEach(function (key) {
    api._cache.set(key, String(cmi[key]));
  });
  window.API = api;
  window.API_1484_11 = api;
})();
