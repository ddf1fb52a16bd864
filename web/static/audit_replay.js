// Replay page, progressive enhancement: the left and right arrow keys follow the previous/next step links.
// Without JavaScript the links work as they are. Keys typed into form fields are left alone.
(function () {
  "use strict";
  var hint = document.querySelector(".keys-hint");
  if (hint) { hint.hidden = false; }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var target = event.target;
    if (target && target.closest && target.closest(".diagram-scroll")) { return; }  // arrows scroll the diagram
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var link = null;
    if (event.key === "ArrowLeft") { link = document.getElementById("step-prev"); }
    if (event.key === "ArrowRight") { link = document.getElementById("step-next"); }
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
})();
