// The field app: encounters in three taps, outings with tallies, and the outbox always in view.
// The page is the same for everyone (the service worker keeps it); the worker's own data comes
// from bootstrap and is kept in IndexedDB for the days without network. This module starts the
// others, in order: each owns one part of the page.
import * as outbox from "./outbox.js";
import { $, registerServiceWorker } from "./page.js";
import { state, urls } from "./field-context.js";
import * as encounter from "./field-encounter.js";
import * as outing from "./field-outing.js";
import * as list from "./field-outbox.js";
import * as session from "./field-session.js";

outbox.configure({ sync: urls.sync, attachment: urls.attachment });

async function init() {
  session.init();
  list.init();
  await Promise.all([encounter.init(), outing.init(), session.loadKeptBootstrap()]);
  session.applyBootstrap();
  outing.render();
  encounter.chooseZone();
  await list.render();
  if (await outbox.needsSignIn()) session.showSignIn(true);
  else if (state.boot) $("header-signout").hidden = false;
  document.body.dataset.ready = "1";
  registerServiceWorker(urls.sw, $("update-banner"), $("reload-app")).then((reg) => { window.outreachServiceWorker = reg; });
  session.loadBootstrap();
  outbox.start();
}

init();
