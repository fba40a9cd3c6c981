// Adds a live-event handler without displacing one that a feature module registered for the same
// type. store.register already chains a new handler after the one it keeps, so this only names
// that; wrapping the previous handler here as well ran every earlier handler twice per listen
// (four "Run succeeded." toasts once the runs panel had listened twice).
export function listen(store, type, handler) {
  store.register(type, handler);
}
