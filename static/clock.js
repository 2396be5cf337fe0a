// The running match clock, counted by the page: a row in play carries when its period began,
// so the minutes move on here without a push each minute. The page's own clock may be off; the
// server's time when the page was made (a meta tag) corrects for that.
(() => {
  const MAX_ADDED = 30; // as the server's clock: it stops there, for a half nobody ends
  let skew = 0;
  const tick = () => {
    const now = Date.now() + skew;
    for (const clock of document.querySelectorAll(".clock[data-since]")) {
      const since = Date.parse(clock.dataset.since);
      const shown = clock.querySelector(".minute");
      if (Number.isNaN(since) || !shown) continue;
      const from = Number(clock.dataset.from), end = from + Number(clock.dataset.length);
      const minute = from + Math.max(0, Math.floor((now - since) / 60000)) + 1;
      const text = minute > end ? `${end}+${Math.min(minute - end, MAX_ADDED)}'` : `${minute}'`;
      if (shown.textContent !== text) shown.textContent = text;
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    const served = Date.parse(document.querySelector("meta[name=server-time]")?.content ?? "");
    if (!Number.isNaN(served)) skew = served - Date.now();
    tick();
    setInterval(tick, 5000);
    new MutationObserver(tick).observe(document.body, { childList: true, subtree: true });
  });
})();
