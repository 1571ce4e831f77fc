// Inside the dates widget's frame: tell the embedding page how tall the content is, so it
// can size the frame (eventsapp/static/embed-host.js). Sent only to the sites allowed to
// frame the widget (data-parents); nothing else leaves the frame.
(function () {
  "use strict";
  if (window.parent === window) return;
  var parents = JSON.parse(document.documentElement.getAttribute("data-parents") || "[]");
  var content = document.querySelector(".embed");
  var last = 0;
  function send() {
    var height = Math.ceil(content.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    parents.forEach(function (origin) {
      window.parent.postMessage({ eventsapp: "height", height: height }, origin);
    });
  }
  if ("ResizeObserver" in window) new ResizeObserver(send).observe(content);
  window.addEventListener("load", send);
  send();
})();
