// Kick-off times in the viewer's own timezone. The server writes each as <time datetime="…UTC…">
// with UTC text (right, if less friendly, without JavaScript); only the browser knows the viewer's
// zone, so this rewrites the text with Intl, also in rows and timelines that arrive later.
(() => {
  // A row's kick-off: the time alone when it is today where the viewer is, with the date otherwise.
  // In the page's language (the switch may differ from the browser's), in the viewer's zone.
  const locale = document.documentElement.lang || undefined;
  const formats = {
    time: new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }),
    short: new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }),
    long: new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short" }),
  };
  const sameDay = (a, b) => a.toDateString() === b.toDateString();
  const format = (element, when) => {
    if (element.dataset.local === "short" && sameDay(when, new Date())) return formats.time.format(when);
    return (formats[element.dataset.local] || formats.long).format(when);
  };
  const localise = () => {
    for (const element of document.querySelectorAll("time[data-local]:not([data-shown])")) {
      const when = new Date(element.dateTime);
      element.dataset.shown = "";
      if (!Number.isNaN(when.getTime())) {
        element.title = element.textContent;
        element.textContent = format(element, when);
      }
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    localise();
    new MutationObserver(localise).observe(document.body, { childList: true, subtree: true });
  });
})();
