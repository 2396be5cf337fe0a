// The connection badge (Live, Reconnecting…, Offline) and the time of the last update, from
// htmx's own socket events. If the WebSocket never opens (a proxy that refuses it), the page
// switches #live to Server-Sent Events, which stream the same fragments.
(() => {
  const RETRIED = [1001, 1005, 1006, 1011, 1012, 1013, 1014]; // close codes htmx reconnects after
  const FALLBACK_AFTER = 2; // failed attempts without ever opening
  let opened = false, failures = 0, fallback = false, lastUpdate = null;
  const badge = () => document.getElementById("connection");
  // The words come from the page, in its language; English where a page does not give them.
  const words = (key, fallback) => badge()?.dataset[key] || fallback;
  const show = (state, text) => {
    const element = badge();
    if (!element) return;
    element.hidden = false;
    element.dataset.state = state;
    element.querySelector(".state").textContent = text;
  };
  // Offline, the page may be the copy the service worker kept: say how old its scores are.
  const offline = () => {
    const since = lastUpdate || new Date(badge()?.dataset.rendered || Date.now());
    const time = since.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    show("offline", words("offline", "Offline, last updated %s").replace("%s", time));
  };
  const updated = () => {
    const time = badge()?.querySelector("time");
    if (!time) return;
    const now = (lastUpdate = new Date());
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
    show("live", words("live", "Live"));
  });
  document.addEventListener("htmx:ws:close", (event) => {
    if (fallback) return;
    failures += 1;
    if (!opened && failures >= FALLBACK_AFTER && navigator.onLine) return useFallback(event.target);
    const retrying = event.detail.reason === "closed" && RETRIED.includes(event.detail.code);
    if (retrying && failures <= 3 && navigator.onLine) show("reconnecting", words("reconnecting", "Reconnecting…"));
    else offline();
  });
  document.addEventListener("htmx:sse:after:connection", () => show("live", words("fallback", "Live (fallback)")));
  document.addEventListener("htmx:sse:error", () =>
    navigator.onLine ? show("reconnecting", words("reconnecting", "Reconnecting…")) : offline(),
  );
  document.addEventListener("htmx:sse:close", offline);
  document.addEventListener("htmx:ws:after:message:incoming", updated);
  document.addEventListener("htmx:sse:after:message", updated);
  window.addEventListener("offline", offline);
  document.addEventListener("DOMContentLoaded", () => badge() && (navigator.onLine ? show("connecting", "Connecting…") : offline()));
  // Where service workers are refused (private modes, policies) the page simply stays online-only.
  navigator.serviceWorker?.register("/sw.js").catch(() => {});
})();
