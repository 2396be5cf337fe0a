// The connection badge (Live, Reconnecting…, Offline) and the time of the last update, from
// htmx's own socket events. If the WebSocket never opens (a proxy that refuses it), the page
// switches #live to Server-Sent Events, which stream the same fragments.
(() => {
  const RETRIED = [1001, 1005, 1006, 1011, 1012, 1013, 1014]; // close codes htmx reconnects after
  const FALLBACK_AFTER = 2; // failed attempts without ever opening
  let opened = false, failures = 0, fallback = false;
  const badge = () => document.getElementById("connection");
  const show = (state, text) => {
    const element = badge();
    if (!element) return;
    element.hidden = false;
    element.dataset.state = state;
    element.querySelector(".state").textContent = text;
  };
  const updated = () => {
    const time = badge()?.querySelector("time");
    if (!time) return;
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    time.parentElement.hidden = false;
  };
  const useFallback = (live) => {
    fallback = true;
    live.setAttribute("hx-sse:connect", live.getAttribute("hx-ws:connect").replace(/^\/ws/, "/sse"));
    htmx.process(live);
  };
  document.addEventListener("htmx:ws:before:connection", (event) => {
    if (fallback) event.preventDefault(); // no more WebSocket attempts once on the fallback
  });
  document.addEventListener("htmx:ws:after:connection", () => {
    opened = true;
    failures = 0;
    show("live", "Live");
  });
  document.addEventListener("htmx:ws:close", (event) => {
    if (fallback) return;
    failures += 1;
    if (!opened && failures >= FALLBACK_AFTER) return useFallback(event.target);
    const retrying = event.detail.reason === "closed" && RETRIED.includes(event.detail.code);
    show(retrying && failures <= 3 ? "reconnecting" : "offline", retrying && failures <= 3 ? "Reconnecting…" : "Offline");
  });
  document.addEventListener("htmx:sse:after:connection", () => show("live", "Live (fallback)"));
  document.addEventListener("htmx:sse:error", () => show("reconnecting", "Reconnecting…"));
  document.addEventListener("htmx:sse:close", () => show("offline", "Offline"));
  document.addEventListener("htmx:ws:after:message:incoming", updated);
  document.addEventListener("htmx:sse:after:message", updated);
  window.addEventListener("offline", () => show("offline", "Offline"));
  document.addEventListener("DOMContentLoaded", () => badge() && show("connecting", "Connecting…"));
})();
