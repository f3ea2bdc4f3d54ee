// LTI Dynamic Registration: tell the platform that opened this page that registration is
// done, so it can close the frame or window (message subject from the specification).
if (document.querySelector("[data-close]")) {
  const target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) {
    target.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
}
