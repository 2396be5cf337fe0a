// Followed teams, on top of what the server already rendered from the cookie:
// 1. A snapshot (on every reconnect) replaces #board with the board everyone gets; this moves
//    the followed teams' rows back into a "My teams" group at the top.
// 2. After the viewer opts in, a system notification when a followed team scores, gets a red
//    card, or its match ends. The socket of a page with followed teams stays open in a
//    background tab (hx-config pauseOnBackground false, set by the server), so this still runs.
(() => {
  const live = document.getElementById("live");
  const teams = (live?.dataset.followed || "").split(" ").filter(Boolean);
  if (!teams.length) return;
  const links = teams.map((slug) => `a[href="/teams/${slug}"]`).join(",");
  const rows = () => [...document.querySelectorAll("li.match")].filter((row) => row.querySelector(links));

  const regroup = () => {
    const board = document.getElementById("board");
    if (!board || board.querySelector(".group.mine")) return;
    const mine = rows().filter((row) => board.contains(row));
    if (!mine.length) return;
    const group = document.createElement("section");
    group.className = "group mine";
    group.setAttribute("aria-labelledby", "group-mine");
    group.innerHTML = '<h2 class="group-title" id="group-mine"></h2><ol class="board"></ol>';
    group.querySelector("h2").textContent = live.dataset.mineTitle || "My teams";
    for (const row of mine) group.querySelector("ol").append(row);
    for (const list of board.querySelectorAll(".group ol.board")) {
      if (!list.children.length) list.closest(".group").remove();
    }
    board.prepend(group);
  };

  const text = (row, selector) => row.querySelector(selector)?.textContent.trim() || "";
  const stateOf = (row) => ({
    home: Number(text(row, ".score.home")) || 0,
    away: Number(text(row, ".score.away")) || 0,
    reds: row.querySelectorAll(".red-card").length,
    status: row.dataset.status,
  });
  const seen = new Map();
  const notify = (title, row) => {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    new Notification(title, { body: text(row, ".clock"), tag: `${row.id}-${title}`, icon: "/static/icon-192.png" });
  };
  const watch = () => {
    for (const row of rows()) {
      const now = stateOf(row), before = seen.get(row.id);
      seen.set(row.id, now);
      if (!before) continue;
      const home = text(row, ".team.home"), away = text(row, ".team.away");
      const score = `${home} ${now.home}–${now.away} ${away}`;
      if (now.home > before.home || now.away > before.away) notify(`Goal! ${score}`, row);
      if (now.reds > before.reds) notify(`Red card: ${home} v ${away}`, row);
      if (now.status === "full_time" && before.status !== "full_time") notify(`Full time: ${score}`, row);
    }
  };

  const offer = () => {
    const box = document.getElementById("notify");
    if (!box || !("Notification" in window)) return;
    box.hidden = false;
    const button = document.getElementById("notify-button");
    button.hidden = Notification.permission === "granted";
    document.getElementById("notify-state").hidden = Notification.permission !== "granted";
    button.onclick = async () => {
      await Notification.requestPermission();
      offer();
    };
  };

  document.addEventListener("DOMContentLoaded", () => {
    regroup();
    watch();
    offer();
    new MutationObserver(() => {
      regroup();
      watch();
    }).observe(live, { childList: true, subtree: true });
  });
})();
