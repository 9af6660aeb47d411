// Ask before submitting a form marked data-confirm (revoke, erase). Without JavaScript the
// forms still work: erasure asks for the name to be typed anyway.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
})();
