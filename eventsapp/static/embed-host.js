// On the partner's page, next to the widget's <iframe data-eventsapp>: sets each frame's
// height to what its content reports (eventsapp/static/embed.js). Messages from any other
// origin, or from other frames, are ignored. Without script the frame keeps its height.
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.eventsapp !== "height") return;
    var height = Number(data.height);
    if (!(height > 0 && height < 20000)) return;
    var frames = document.querySelectorAll("iframe[data-eventsapp]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) frames[i].style.height = height + "px";
    }
  });
})();
