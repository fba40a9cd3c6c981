// Adds a live-event handler without displacing one that a feature module registered for the same
// type: the store keeps one handler per event type, so a second one is chained after the first.
export function listen(store, type, handler) {
  const previous = store.handlers?.[type];
  store.register(type, previous ? (event, s) => (previous(event, s), handler(event, s)) : handler);
}
