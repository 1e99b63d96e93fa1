/*
 * Opens Toss Payments' payment window for the order on this page (docs/TOSS.md):
 *   TossPayments(clientKey).payment({customerKey}).requestPayment(request)
 * The values come from the page's JSON (json_script), never from string building. On
 * success the window sends the browser to our success URL; this script only handles a
 * window that could not open or that the buyer closed.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("toss-window").textContent);
  var button = document.getElementById("pay");

  function show(id) {
    ["loading", "closed", "failed"].forEach(function (name) {
      document.getElementById(name).hidden = name !== id;
    });
  }

  function failed(error) {
    button.disabled = false;
    if (error && error.code === "USER_CANCEL") {
      show("closed");
      return;
    }
    document.getElementById("failed-code").textContent = (error && error.code) || "";
    show("failed");
  }

  if (typeof window.TossPayments !== "function") {
    failed({code: "SDK_NOT_LOADED"});
    button.disabled = true;
    return;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    show("loading");
    try {
      window
        .TossPayments(config.clientKey)
        .payment({customerKey: config.customerKey})
        .requestPayment(config.request)
        .catch(failed);
    } catch (error) {
      failed(error);
    }
  });
  button.disabled = false;
  show(null);
})();
