// Small enhancements only: every journey works without this file.
// An error summary gets the focus, so a screen reader reads it first (GOV.UK's pattern).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-focus]");
  if (summary) { summary.focus(); }
  // Buttons that ask before they change something that cannot be undone.
  document.querySelectorAll("[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
