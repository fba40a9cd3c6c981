// Small behaviours of server-rendered forms, without inline script (the Content-Security-Policy forbids it).
// <select data-submit-on-change>: choosing a value submits its form.
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-submit-on-change]")) event.target.form.requestSubmit();
});
