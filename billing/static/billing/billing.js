// Billing pages: small progressive enhancements (the pages work without this file).
(function () {
  "use strict";
  // "Use these minutes" (Bill time): put the ticket's uncharged timer minutes into the minutes
  // field of the same form. Only the minutes: the labor type is always the person's choice.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-fill-minutes]");
    if (!button) return;
    var form = button.closest("form");
    var input = form && form.querySelector("input[name='minutes']");
    if (!input) return;
    event.preventDefault();
    input.value = button.getAttribute("data-fill-minutes");
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  });
})();
