// The canvas widgets (context menus, minimap, lightbox, notes, runs panel): installed once, at the
// end of main.js, with the page's context. A placeholder until the widgets land.

export function installWidgets(ctx) {} // eslint-disable-line no-unused-vars
