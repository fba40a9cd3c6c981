// Adds a live-event handler after those already kept for its type. `store.register` chains them
// itself; chaining here as well ran every earlier handler once more per listener (four toasts for
// one finished run).
export function listen(store, type, handler) {
  store.register(type, handler);
}
