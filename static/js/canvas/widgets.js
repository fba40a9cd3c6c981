// The canvas widgets that users bring as habits from other node editors: right-click menus, a
// minimap, a larger preview, sticky notes and the runs panel. main.js calls installWidgets once.
// ctx = {root, store, view, editor, history, api, toast, actions} (actions: run, inspect,
// openSearch, addNodeAt, dropFile).

import { installContextMenus } from "./contextmenu.js";
import { Lightbox } from "./lightbox.js";
import { Minimap } from "./minimap.js";
import { Notes } from "./notes.js";
import { RunsPanel } from "./runspanel.js";

export function installWidgets(ctx) {
  const lightbox = new Lightbox(ctx);
  const notes = new Notes(ctx);
  const minimap = new Minimap(ctx);
  const runs = new RunsPanel(ctx);
  installContextMenus({ ...ctx, lightbox, notes });
  return { lightbox, notes, minimap, runs };
}
