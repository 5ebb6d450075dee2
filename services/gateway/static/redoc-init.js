// Starts ReDoc on /redoc with the settings the page carries as JSON (no inline script).
// ReDoc hands the nonce to its CSS-in-JS, whose <style> elements then pass the page's policy.
"use strict";
window.addEventListener("load", function () {
  var parameters = JSON.parse(document.getElementById("redoc-parameters").textContent);
  Redoc.init(parameters.url, { nonce: parameters.nonce }, document.getElementById("redoc"));
});
