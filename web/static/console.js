// Keyboard shortcuts of the review list (no inline scripts: the CSP allows only files from the console).
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.post")); }
  function current() { return document.querySelector("tr.post.cur"); }
  function select(row) {
    var old = current();
    if (old) { old.classList.remove("cur"); }
    if (row) { row.classList.add("cur"); row.focus(); row.scrollIntoView({ block: "nearest" }); }
  }
  function move(step) {
    var all = rows(), cur = current(), i = cur ? all.indexOf(cur) : -1;
    var next = all[Math.max(0, Math.min(all.length - 1, i + step))];
    if (next) { select(next); }
  }
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (e.ctrlKey || e.metaKey || e.altKey || tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") { return; }
    var cur = current();
    if (e.key === "j") { move(1); e.preventDefault(); }
    else if (e.key === "k") { move(-1); e.preventDefault(); }
    else if (e.key === "/") { var s = document.getElementById("search"); if (s) { s.focus(); e.preventDefault(); } }
    else if (e.key === "Enter" && cur) { window.location.href = cur.getAttribute("data-href"); }
    else if (e.key === "[" || e.key === "]") {
      var page = document.querySelector('.pager a[data-key="' + e.key + '"]');
      if (page) { page.click(); e.preventDefault(); }
    }
    else if (cur && (e.key === "x" || e.key === "n" || e.key === "m")) {
      var button = cur.querySelector('button[data-key="' + e.key + '"]');
      if (button) {
        var all = rows(), following = all[all.indexOf(cur) + 1];
        button.click();
        if (following) { select(following); }
      }
    }
  });
  // A quick choice of days replaces the from/to dates (the server lets dates win over days).
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.name === "days" && t.value && t.form) {
      ["from", "to"].forEach(function (name) { var d = t.form.elements[name]; if (d) { d.value = ""; } });
    }
  }, true);
  document.addEventListener("htmx:responseError", function (e) {
    var box = document.getElementById("notice");
    if (box) { box.textContent = e.detail.xhr.responseText || "操作失败"; box.hidden = false; }
  });
})();
