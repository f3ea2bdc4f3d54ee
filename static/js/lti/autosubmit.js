// Posts the deep-linking answer back to the platform as soon as the page is shown (the
// button stays for browsers without scripts).
document.querySelectorAll("form[data-autosubmit]").forEach((form) => form.submit());
