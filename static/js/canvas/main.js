// The canvas page: wiring only. It builds the store, the view, the editor and the features
// (runs, plan, palette, inspector, drops, characters, card buttons), routes every live event into
// the store, and hands the same context to the widgets.

import { api } from "./api.js";
import { installCardActions } from "./cardactions.js";
import { installCharacters } from "./characters.js";
import { installDrops } from "./drops.js";
import { Editor } from "./editor.js";
import { History } from "./history.js";
import { installInlineEditing } from "./inline.js";
import { installInspector } from "./inspector.js";
import { bindInteractions } from "./interactions.js";
import { installPalette } from "./palette.js";
import { makeToaster, renderPresence } from "./panels.js";
import { installPlan } from "./plan.js";
import { installRuns } from "./runs.js";
import { Store } from "./store.js";
import { View } from "./view.js";
import { installWidgets } from "./widgets.js";
import { connectProject } from "../live.js";

const root = document.querySelector("[data-canvas]");
const me = root.dataset.user;
const store = new Store({ projectId: root.dataset.project, canEdit: root.dataset.canEdit === "true" });
const view = new View(root, store);
const toast = makeToaster(root.querySelector("[data-toasts]"));
const buttons = Object.fromEntries([...root.querySelectorAll("[data-action-button]")].map((b) => [b.dataset.actionButton, b]));
const history = new History(() => {
  if (buttons.undo) buttons.undo.disabled = !history.canUndo;
  if (buttons.redo) buttons.redo.disabled = !history.canRedo;
});
const editor = new Editor({ store, history, toast, onSettings: (id) => inspector.reload(id) });

const runs = installRuns({ store, dialog: root.querySelector("[data-plan-dialog]"), buttons, toast });
installPlan({ store, view });
const inspector = installInspector({ root, store, editor, toast, me });
const palette = installPalette({ root, store, view, editor, toast, inspect: inspector.inspect });
const characters = installCharacters({ root, store });
const drops = installDrops({ store, view, editor, toast, run: runs.run, characters, addNodeAt: palette.addNodeAt });
installCardActions({ store, view, editor, toast, run: runs.run, inspector, drops });
installInlineEditing({ store, view, editor });

const actions = {
  run: runs.run,
  inspect: inspector.inspect,
  openSearch: palette.openSearch,
  closeSearch: palette.closeSearch,
  addNodeAt: palette.addNodeAt,
  freeSpot: palette.freeSpot,
  dropFile: drops.dropFile,
};
bindInteractions({ root, store, view, editor, history, toast, actions });

// Toolbar ---------------------------------------------------------------------------------------

const actionsByButton = {
  "run-all": () => runs.run([]),
  cancel: () => runs.cancelAll(),
  undo: () => history.undo().catch((error) => toast(error.message, "error")),
  redo: () => history.redo().catch((error) => toast(error.message, "error")),
  "zoom-in": () => view.zoomAt(1.2),
  "zoom-out": () => view.zoomAt(1 / 1.2),
  "zoom-reset": () => view.zoomAt(1 / view.zoom),
  fit: () => view.fit(),
};
for (const [name, button] of Object.entries(buttons)) button.addEventListener("click", () => actionsByButton[name]?.());
view.viewport.addEventListener("viewport-changed", (event) => {
  const label = root.querySelector("[data-zoom-label]");
  const text = `${Math.round(event.detail.zoom * 100)}%`;
  if (label && label.textContent !== text) label.textContent = text; // an unchanged label must not repaint while panning
});

// Store -> view ---------------------------------------------------------------------------------

store.on((change) => {
  if (change.kind === "node") view.updateNode(change.id);
  else if (change.kind === "graph") view.renderAll();
  else if (change.kind === "edges") view.edgesChanged();
  else if (change.kind === "selection") view.refreshSelection();
  else if (change.kind === "progress") view.updateProgress(change.id);
});

// Live: every event goes into the store; the page's own chrome registers for the few it shows. ------

store.register("graph.snapshot", () => {
  if (root.dataset.ready) return;
  view.fit();
  performance.mark("canvas-ready");
  root.dataset.ready = "true";
});
store.register("presence", (event) => renderPresence(root.querySelector("[data-presence]"), event.users, me));
store.register("member.changed", (event) => {
  if (String(event.user_id) !== root.dataset.userId) return;
  toast(`Your role is now ${event.role}: reloading…`, "warning");
  setTimeout(() => location.reload(), 1200);
});
store.register("project.updated", (event) => {
  root.querySelector("[data-project-name]").textContent = event.project.name;
});

const statusLabel = root.querySelector("[data-live-status]");
const LIVE_LABELS = { live: "live", offline: "reconnecting…", connecting: "connecting…", refused: "no access" };
const LIVE_HINTS = {
  live: "Changes by others appear as they happen.",
  offline: "Live updates are paused: your changes still save, and this page catches up when it reconnects.",
};

function showLiveState(state) {
  statusLabel.textContent = LIVE_LABELS[state];
  statusLabel.dataset.state = state;
  statusLabel.title = LIVE_HINTS[state] ?? "";
  if (state === "refused") {
    store.canEdit = false;
    toast("You are no longer a member of this project: nothing here updates or saves any more.", "error");
  }
}

// Start -----------------------------------------------------------------------------------------

view.applyTransform();
api("GET", "/node-types")
  .then((types) => {
    store.setTypes(types);
    palette.buildPalette();
    // The snapshot comes first on the live channel, and cards need their types to draw.
    connectProject(store.projectId, { onEvent: (event) => store.apply(event), onState: showLiveState });
  })
  .catch((error) => toast(error.message, "error"));
const widgets = installWidgets({ root, store, view, editor, history, api, toast, actions });
window.reelgraph = { store, view, history, editor, widgets }; // for tests and benchmarks
