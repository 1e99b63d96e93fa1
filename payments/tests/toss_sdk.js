/*
 * A stand-in for Toss Payments' v2 SDK script, served by the test server
 * (payments/tests/toss_server.py) at /v2/standard. It offers the part of the SDK a checkout
 * page uses for the payment window:
 *
 *   const payment = TossPayments(clientKey).payment({customerKey});
 *   payment.requestPayment({method: "CARD", amount: {currency: "KRW", value: 10000},
 *                           orderId, orderName, successUrl, failUrl, ...});
 *
 * Instead of opening Toss's window it posts the request to the test server, which plays the
 * buyer, and then sends the browser where the real window would: to the successUrl with
 * paymentKey, orderId and amount, or to the failUrl with code, message and orderId. When the
 * window refuses the request or the buyer closes it, the promise rejects with an Error that
 * has a `code`, as the SDK's does. The server replaces the placeholder below with its address.
 */
(function () {
  "use strict";

  var SESSIONS_URL = __SESSIONS_URL__;

  function failure(code, message) {
    var error = new Error(message || code);
    error.code = code;
    return error;
  }

  function requestPayment(clientKey, customerKey, params) {
    var body = {};
    Object.keys(params || {}).forEach(function (name) {
      body[name] = params[name];
    });
    body.clientKey = clientKey;
    body.customerKey = customerKey;
    return fetch(SESSIONS_URL, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
    }).then(
      function (response) {
        return response.json().then(
          function (answer) {
            if (response.ok && answer && answer.redirect) {
              window.location.assign(answer.redirect);
              // The page is leaving, as with the real redirect flow: the promise never settles.
              return new Promise(function () {});
            }
            throw failure((answer && answer.code) || "UNKNOWN_ERROR", answer && answer.message);
          },
          function () {
            throw failure("UNKNOWN_ERROR", "the payment window answered " + response.status);
          }
        );
      },
      function () {
        throw failure("NETWORK_ERROR", "the payment window could not be reached");
      }
    );
  }

  function TossPayments(clientKey) {
    if (typeof clientKey !== "string" || clientKey === "") {
      throw failure("INVALID_CLIENT_KEY", "TossPayments() needs a client key");
    }
    return {
      payment: function (options) {
        var customerKey = options && options.customerKey;
        return {
          requestPayment: function (params) {
            return requestPayment(clientKey, customerKey, params);
          },
        };
      },
      widgets: function () {
        throw failure("NOT_SUPPORTED", "the stand-in offers the payment window only");
      },
      brandpay: function () {
        throw failure("NOT_SUPPORTED", "the stand-in offers the payment window only");
      },
    };
  }

  TossPayments.ANONYMOUS = "@@ANONYMOUS";
  window.TossPayments = TossPayments;
})();
