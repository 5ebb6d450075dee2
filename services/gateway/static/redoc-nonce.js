// Loaded before ReDoc's bundle: the stylesheets its modules create as they load (the side
// menu's scrollbar) get the page's nonce, so the Content-Security-Policy can stay without
// 'unsafe-inline'. Only elements made by the gateway's own scripts pass; a <style> smuggled
// in through markup (a description in the OpenAPI document) has no nonce and stays blocked.
"use strict";
(function () {
  var nonce = JSON.parse(document.getElementById("redoc-parameters").textContent).nonce;
  var createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (name) {
    var element = createElement.apply(this, arguments);
    if (String(name).toLowerCase() === "style") {
      element.setAttribute("nonce", nonce);
    }
    return element;
  };
})();
