// The field app's entry: starts the field-*.js modules in order, each owning one part of the page.
// The page is the same for everyone (the service worker keeps it); the worker's data comes from bootstrap.
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
  registerServiceWorker(urls.sw, $("update-banner"), $("reload-app"), outbox.betweenSyncs)
    .then((reg) => { window.outreachServiceWorker = reg; });
  session.loadBootstrap();
  outbox.start();
}

init();
