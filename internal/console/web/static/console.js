// The console works without this script. While an apply is under way (a
// progress bar is on the page) it reloads the page every few seconds, so
// progress and figures move on their own; never while a confirmation is
// open.
(function () {
  "use strict";
  if (!document.querySelector("progress")) { return; }
  setTimeout(function () {
    if (!document.querySelector("[popover]:popover-open")) { location.reload(); }
  }, 4000);
})();
