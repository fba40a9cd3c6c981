// Pointer and keyboard: which gesture a press starts (gestures/), zoom, double-click search, and the
// keys: delete, copy/paste/duplicate, undo/redo, run the selection, select all, escape.

import { Connect } from "./gestures/connect.js";
import { Drag } from "./gestures/drag.js";
import { Marquee } from "./gestures/marquee.js";
import { Pan } from "./gestures/pan.js";

const TYPING = "input, textarea, select, [contenteditable], video, audio";
const NOT_A_DRAG = "button, a, video, audio, input, textarea, select, [contenteditable], [data-takes]";

export function bindInteractions(context) {
  const { root, store, view, editor, history, actions, toast } = context;
  const viewport = view.viewport;
  let gesture = null;
  let clipboard = null;
  let selectedEdge = null;

  // The gesture a press starts, or null when the press only selects.
  function gestureFor(event) {
    const port = event.target.closest("[data-port]");
    const card = event.target.closest("[data-node-id]");
    const edge = event.target.closest("[data-edge]");
    if (port && store.canEdit) return new Connect(context, event, port, card.dataset.nodeId);
    if (card && !event.target.closest(NOT_A_DRAG)) return pressCard(event, card.dataset.nodeId);
    if (edge && store.canEdit) return selectEdge(edge.dataset.edge);
    if (card || edge) return null;
    return event.shiftKey ? new Marquee(context, event) : new Pan(context, event);
  }

  function pressCard(event, id) {
    if (event.shiftKey) return store.toggle(id);
    if (!store.selection.has(id)) store.select([id]);
    actions.inspect(store.selection.size === 1 ? id : null);
    return store.canEdit ? new Drag(context, event) : null;
  }

  viewport.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    selectEdge(null);
    gesture = gestureFor(event) || null;
    if (gesture) viewport.setPointerCapture(event.pointerId);
  });
  viewport.addEventListener("pointermove", (event) => gesture?.move(event));
  viewport.addEventListener("pointerup", (event) => {
    const finished = gesture;
    gesture = null;
    finished?.end(event);
  });
  viewport.addEventListener("pointercancel", () => {
    gesture?.cancel();
    gesture = null;
  });

  function selectEdge(id) {
    selectedEdge = id;
    for (const path of view.edgesLayer.querySelectorAll("[data-edge]")) path.classList.toggle("selected", path.dataset.edge === id);
    return null;
  }

  viewport.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      view.zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
    },
    { passive: false },
  );

  viewport.addEventListener("dblclick", (event) => {
    if (!store.canEdit || event.target.closest("[data-node-id]")) return;
    actions.openSearch(event.clientX, event.clientY);
  });

  // Pasted and duplicated cards land in free space near their originals, not on top of them.
  async function paste(snapshot) {
    if (!snapshot.nodes.length) return;
    const left = Math.min(...snapshot.nodes.map((n) => n.x));
    const top = Math.min(...snapshot.nodes.map((n) => n.y));
    const width = Math.max(...snapshot.nodes.map((n) => n.x + (view.elements.get(n.id)?.offsetWidth || 250))) - left;
    const height = Math.max(...snapshot.nodes.map((n) => n.y + (view.elements.get(n.id)?.offsetHeight || 140))) - top;
    const spot = actions.freeSpot({ x: left + 40, y: top + 40 }, { width, height });
    await editor.paste(snapshot, { x: spot.x - left, y: spot.y - top });
  }

  const keys = [
    [(e, mod, key) => mod && key === "z" && !e.shiftKey, () => store.canEdit && history.undo()],
    [(e, mod, key) => mod && ((key === "z" && e.shiftKey) || key === "y"), () => store.canEdit && history.redo()],
    [(e, mod, key) => mod && key === "enter", () => store.canEdit && actions.run([...store.selection])],
    [(e, mod, key) => mod && key === "a", () => store.select([...store.nodes.keys()])],
    [(e, mod, key) => mod && key === "v" && clipboard && store.canEdit, () => paste(clipboard)],
    [(e, mod, key) => mod && key === "d" && store.canEdit, () => paste(editor.snapshotOf([...store.selection]))],
    [(e, mod, key) => (key === "delete" || key === "backspace") && store.canEdit, () => deleteSelected()],
  ];

  async function deleteSelected() {
    if (selectedEdge) {
      const id = selectedEdge;
      selectEdge(null);
      return editor.disconnect(id);
    }
    const ids = [...store.selection];
    actions.inspect(null);
    return editor.deleteNodes(ids);
  }

  document.addEventListener("keydown", async (event) => {
    if (event.target.closest?.(TYPING) || root.querySelector("dialog[open]")) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    try {
      if (mod && key === "c") {
        clipboard = editor.snapshotOf([...store.selection]);
        if (clipboard.nodes.length) toast(`Copied ${clipboard.nodes.length} node${clipboard.nodes.length > 1 ? "s" : ""}.`);
      } else if (key === "escape") {
        store.select([]);
        selectEdge(null);
        actions.closeSearch();
      } else {
        const match = keys.find(([test]) => test(event, mod, key));
        if (!match) return;
        event.preventDefault();
        await match[1]();
      }
    } catch (error) {
      toast(error.message, "error");
    }
  });
}
