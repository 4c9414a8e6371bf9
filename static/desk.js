// Live countdowns to the service-start deadline, and keyboard moves in the queue.
(function () {
  "use strict";
  const lang = document.documentElement.lang || "sv";
  const words = lang === "sv"
    ? { overdue: "försenad", h: "h", min: "min", d: "d" }
    : { overdue: "overdue", h: "h", min: "min", d: "d" };

  function span(ms) {
    let minutes = Math.floor(Math.abs(ms) / 60000);
    const days = Math.floor(minutes / 1440); minutes -= days * 1440;
    const hours = Math.floor(minutes / 60); minutes -= hours * 60;
    const parts = [];
    if (days) parts.push(days + " " + words.d);
    if (hours || days) parts.push(hours + " " + words.h);
    parts.push(minutes + " " + words.min);
    return parts.join(" ");
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      const left = Date.parse(el.dataset.countdown) - now;
      el.textContent = left >= 0 ? span(left) : words.overdue + " " + span(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 3600000);
    });
  }
  tick();
  setInterval(tick, 30000);

  // The queue's rows are replaced when it refreshes itself: look them up each time.
  function queueRows() { return Array.from(document.querySelectorAll("table.queue tbody tr[data-href]")); }
  let current = -1;
  function select(i, keepScroll) {
    const rows = queueRows();
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) { r.classList.toggle("selected", j === current); });
    if (!keepScroll) rows[current].scrollIntoView({ block: "nearest" });
  }
  // After a refresh: the countdowns at once, and the row the agent had selected.
  document.addEventListener("htmx:afterSwap", function () {
    tick();
    if (current >= 0) select(current, true);
  });
  // A canned reply goes into the message box: as the message when it is empty, after it when not.
  document.querySelectorAll("select[data-fills]").forEach(function (menu) {
    menu.addEventListener("change", function () {
      const option = menu.selectedOptions[0];
      const box = document.getElementById(menu.dataset.fills);
      if (!option || !option.dataset.text || !box) return;
      box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + option.dataset.text : option.dataset.text;
      box.focus();
      menu.value = "";
    });
  });

  // Ticked tickets: the bulk bar says how many and shows the fields of the chosen change; the
  // queue holds still (no refresh) while anything is ticked, so no tick is lost.
  const bulk = document.querySelector("form[data-bulk]");
  function ticked() { return document.querySelectorAll("#queue input[name=ticket]:checked").length; }
  function showBulk() {
    if (!bulk) return;
    const count = ticked();
    const counter = bulk.querySelector("[data-bulk-count]");
    counter.textContent = count ? count + " " + counter.dataset.ticked : counter.dataset.empty;
    bulk.classList.toggle("idle", count === 0);
    const chosen = bulk.querySelector("[data-bulk-action]").value;
    bulk.querySelectorAll("[data-bulk-for]").forEach(function (el) { el.hidden = el.dataset.bulkFor !== chosen; });
  }
  if (bulk) {
    const counter = bulk.querySelector("[data-bulk-count]");
    counter.dataset.empty = counter.textContent;
    bulk.querySelector("[data-bulk-action]").addEventListener("change", showBulk);
    document.addEventListener("change", function (event) {
      if (event.target.matches("[data-pick-all]")) {
        document.querySelectorAll("#queue input[name=ticket]").forEach(function (box) { box.checked = event.target.checked; });
      }
      if (event.target.form === bulk) showBulk();
    });
    document.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt.id === "queue" && ticked()) event.preventDefault();
    });
    document.addEventListener("htmx:afterSwap", showBulk);
    showBulk();
  }

  const filters = document.getElementById("filters");
  if (filters) {
    filters.querySelectorAll("select, input[type=checkbox]").forEach(function (el) {
      el.addEventListener("change", function () { filters.requestSubmit(); });
    });
  }
  document.addEventListener("keydown", function (event) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (event.key === "/" && !typing) {
      const search = document.getElementById("search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (!typing && event.key === "j") { select(current + 1); }
    else if (!typing && event.key === "k") { select(current - 1); }
    else if (!typing && event.key === "Enter" && current >= 0) {
      const rows = queueRows();
      if (rows[current]) window.location = rows[current].dataset.href;
    }
  });
})();
