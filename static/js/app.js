// Small behaviours for every page. No inline scripts: the CSP forbids them.

// Ask before destructive form submissions marked with data-confirm.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
