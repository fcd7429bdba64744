// Copy buttons: a button with data-copy="ID" copies the text of element ID.
// The buttons are hidden in the page and shown here, so without script
// nothing that does not work is on screen.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    var label = btn.textContent;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = target.tagName === "UL"
        ? Array.prototype.map.call(target.querySelectorAll("li"), function (li) { return li.textContent.trim(); }).join("\n")
        : target.textContent.trim();
      navigator.clipboard.writeText(text).then(function () {
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = label; }, 2000);
      }, function () {
        btn.textContent = "Select and copy by hand";
      });
    });
  });
});
