// The field app's own state on the phone (the bootstrap copy, the outing in progress, the place
// last chosen), kept apart from the outbox's meta: the outbox never reads it.
import { APP, clearStore, read, write } from "./outbox-store.js";

export const get = (key) => read(APP, key);
export const set = (key, value) => write(APP, key, value);
// Sign-out on a shared phone: nothing of the person stays (bootstrap copy, outing, choices).
export const clear = () => clearStore(APP);
