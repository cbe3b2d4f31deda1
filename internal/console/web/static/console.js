// The console works without this script; it only refreshes a page while a
// channel is running, so progress and figures move on their own.
(function () {
  "use strict";
  var running = document.querySelector(".pill.running");
  if (running && !document.querySelector("[popover]:popover-open")) {
    setTimeout(function () {
      if (!document.querySelector("[popover]:popover-open")) { location.reload(); }
    }, 5000);
  }
})();
