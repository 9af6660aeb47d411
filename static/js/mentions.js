// The studio's cameo picker: a click on "@handle" puts the mention into the prompt at the caret
// (templates/generation/studio.html). Without JavaScript, people type the handle themselves.
(function () {
  "use strict";

  var prompt = document.querySelector("form[data-testid=studio-form] textarea[name=prompt]");
  if (!prompt) {
    return;
  }
  document.querySelectorAll("[data-mention]").forEach(function (button) {
    button.addEventListener("click", function () {
      var mention = button.dataset.mention;
      var start = prompt.selectionStart || 0;
      var end = prompt.selectionEnd || start;
      var before = prompt.value.slice(0, start);
      var after = prompt.value.slice(end);
      var text = (before && !/\s$/.test(before) ? " " : "") + mention + (/^\s/.test(after) ? "" : " ");
      prompt.value = before + text + after;
      var caret = before.length + text.length;
      prompt.focus();
      prompt.setSelectionRange(caret, caret);
    });
  });
})();
