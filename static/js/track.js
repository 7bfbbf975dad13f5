// A resident's tracking page: the service worker keeps the last one opened, to read offline.
// A link opened from a message may be the phone's first visit: the worker is installed now, and
// handed this page to keep, since it did not serve it.
const script = document.getElementById("track-script");
if (script && "serviceWorker" in navigator) {
  navigator.serviceWorker.register(script.dataset.sw, { type: "module", scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => {
      if (!navigator.serviceWorker.controller && reg.active) reg.active.postMessage({ type: "keep-track", path: location.pathname });
    })
    .catch(() => { /* the page works without it, only not offline */ });
}
