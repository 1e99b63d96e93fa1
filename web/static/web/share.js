// The thank-you page's share button: the Web Share API where the browser has it (phones),
// else the link is copied to the clipboard and the page says so.
(function () {
  var button = document.getElementById("share");
  var status = document.getElementById("share-status");
  if (!button) return;
  button.addEventListener("click", function () {
    var url = button.dataset.url;
    if (navigator.share) {
      navigator.share({ title: button.dataset.title, url: url }).catch(function () {});
      return;
    }
    var done = function () { status.textContent = button.dataset.copied; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, function () { status.textContent = url; });
    } else {
      status.textContent = url;
    }
  });
})();
