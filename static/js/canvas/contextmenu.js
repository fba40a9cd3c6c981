// Right-click menus: on the canvas (add a node or a note here, paste here, fit) and on cards (run,
// re-roll, duplicate, copy, delete, takes, larger preview). The keyboard opens them too (the
// context-menu key or Shift+F10); arrows move, Enter chooses, Escape or a click elsewhere closes.

import { inside, moved, overlaps, union, visibleWorld } from "./geometry.js";

const TYPING = "input, textarea, select, [contenteditable]";
const GAP = 40; // world pixels between a card and its copy

export function installContextMenus(ctx) {
  const { root, store, view, editor, toast } = ctx;
  const menu = new Menu(root);
  let clipboard = null; // what Ctrl+C (or "Copy") took, for "Paste here"

  // Ctrl+C on the canvas copies the selection (interactions.js keeps its own copy for Ctrl+V).
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "c" && !event.target.closest?.(TYPING) && store.selection.size) {
      clipboard = editor.snapshotOf([...store.selection]);
    }
  });

  view.viewport.addEventListener("contextmenu", (event) => {
    if (event.target.closest("[data-note], [data-menu], video, audio")) return; // their own menus
    event.preventDefault();
    // The context-menu key and Shift+F10 send button 0 (a Mac's Ctrl+click too, but with the pointer's place).
    const keyboard = event.button !== 2 && !event.ctrlKey;
    const point = keyboard ? keyboardPoint(view, store) : { x: event.clientX, y: event.clientY };
    const id = keyboard ? singleSelection(store) : event.target.closest("[data-node-id]")?.dataset.nodeId;
    const items = id ? cardItems(ctx, id, (snapshot) => (clipboard = snapshot)) : canvasItems(ctx, point, () => clipboard);
    menu.open(items, point, event.target);
  });

  const attempt = (work) => Promise.resolve().then(work).catch((error) => toast(error.message, "error"));
  menu.onChoose = attempt;
  return menu;
}

function singleSelection(store) {
  return store.selection.size === 1 ? [...store.selection][0] : null;
}

// Where a menu opened from the keyboard appears: at the selected card, else the canvas's centre.
function keyboardPoint(view, store) {
  const element = view.elements.get(singleSelection(store));
  const rect = (element || view.viewport).getBoundingClientRect();
  return element ? { x: rect.left + 24, y: rect.top + 24 } : { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
}

function canvasItems({ store, view, editor, actions, notes }, point, clipboard) {
  const at = view.toWorld(point.x, point.y);
  const items = [];
  if (store.canEdit) {
    items.push({ label: "Add node here…", run: () => actions.openSearch(point.x, point.y) });
    items.push({ label: "Add note here", run: () => notes.create(at) });
    items.push({
      label: "Paste here",
      disabled: !clipboard()?.nodes.length,
      run: () => editor.paste(clipboard(), offsetTo(clipboard(), at)),
    });
  }
  items.push({ label: "Select all", run: () => store.select([...store.nodes.keys()]) });
  items.push({ label: "Fit to screen", run: () => view.fit() });
  return items;
}

function cardItems({ store, view, editor, actions, lightbox }, id, copy) {
  const node = store.nodes.get(id);
  // A menu on a card of the selection acts on the whole selection, as the keyboard does.
  const ids = store.selection.has(id) ? [...store.selection] : [id];
  const items = [];
  if (store.canEdit) {
    items.push({ label: "Run", run: () => actions.run([id], { confirm: true }) });
    items.push({
      label: "Re-roll (new take)…",
      disabled: !node.selected_take,
      title: "Run it again with the same inputs: the cost is shown first",
      run: () => actions.run([id], { confirm: true, force: true }),
    });
    items.push({ label: ids.length > 1 ? `Duplicate ${ids.length} nodes` : "Duplicate", run: () => duplicate(ids, { store, view, editor }) });
  }
  items.push({ label: "Copy", run: () => copy(editor.snapshotOf(ids)) });
  if (node.selected_take) items.push({ label: "Takes", run: () => view.elements.get(id)?.querySelector("[data-action=takes]")?.click() });
  items.push({ label: "Open larger preview", disabled: !lightbox.canOpen(id), run: () => lightbox.open(id) });
  if (store.canEdit) {
    items.push({
      label: ids.length > 1 ? `Delete ${ids.length} nodes` : "Delete",
      danger: true,
      run: () => (actions.inspect(null), editor.deleteNodes(ids)),
    });
  }
  return items;
}

// The offset that puts a copied group's top-left corner at `at`.
function offsetTo(snapshot, at) {
  const left = Math.min(...snapshot.nodes.map((n) => n.x));
  const top = Math.min(...snapshot.nodes.map((n) => n.y));
  return { x: Math.round(at.x - left), y: Math.round(at.y - top) };
}

async function duplicate(ids, { store, view, editor }) {
  const offset = freeOffset(ids, store, view);
  const created = await editor.paste(editor.snapshotOf(ids), offset);
  showBoxes(view, created);
}

// Where copies of `ids` fit without covering other cards: beside, below, above or left of them,
// preferring places inside the visible part of the canvas.
function freeOffset(ids, store, view) {
  const group = union(ids.map((id) => view.box(id)));
  const others = [...store.nodes.keys()].map((id) => view.box(id));
  const candidates = [];
  for (let ring = 1; ring <= 6; ring++) {
    const dx = ring * (group.width + GAP);
    const dy = ring * (group.height + GAP);
    candidates.push({ x: dx, y: 0 }, { x: 0, y: dy }, { x: -dx, y: 0 }, { x: 0, y: -dy }, { x: dx, y: dy });
  }
  const free = candidates.filter((offset) => !others.some((box) => overlaps(box, moved(group, offset))));
  const visible = visibleWorld(view);
  return free.find((offset) => inside(moved(group, offset), visible)) || free[0] || { x: GAP, y: GAP };
}

// Pans just enough to show the given cards (new copies placed outside the visible part).
function showBoxes(view, ids) {
  const boxes = ids.filter((id) => view.store.nodes.has(id)).map((id) => view.box(id));
  if (!boxes.length) return;
  const group = union(boxes);
  const visible = visibleWorld(view);
  if (inside(group, visible)) return;
  const rect = view.viewport.getBoundingClientRect();
  view.pan = {
    x: rect.width / 2 - (group.x + group.width / 2) * view.zoom,
    y: rect.height / 2 - (group.y + group.height / 2) * view.zoom,
  };
  view.applyTransform();
}

// A popup menu of buttons (role=menu), kept inside the window.
class Menu {
  constructor(root) {
    this.element = document.createElement("div");
    this.element.className = "context-menu";
    this.element.dataset.menu = "";
    this.element.setAttribute("role", "menu");
    this.element.hidden = true;
    root.append(this.element);
    this.onChoose = (work) => work();
    this.element.addEventListener("click", (event) => {
      const button = event.target.closest("[data-menu-item]");
      if (!button || button.disabled) return;
      const item = this.items[Number(button.dataset.menuItem)];
      this.close();
      this.onChoose(item.run);
    });
    this.element.addEventListener("keydown", (event) => this.onKey(event));
    // Any press outside closes it; capture, so that the canvas's own gestures cannot swallow it.
    document.addEventListener("pointerdown", (event) => !this.element.hidden && !this.element.contains(event.target) && this.close(), true);
    document.addEventListener("keydown", (event) => event.key === "Escape" && this.close());
    window.addEventListener("blur", () => this.close());
    window.addEventListener("resize", () => this.close());
  }

  open(items, point, returnFocus) {
    this.items = items;
    this.returnFocus = returnFocus instanceof HTMLElement ? returnFocus : null;
    this.element.innerHTML = items
      .map(
        (item, index) =>
          `<button type="button" role="menuitem" tabindex="-1" data-menu-item="${index}" class="${item.danger ? "danger" : ""}"${item.disabled ? " disabled" : ""}${item.title ? ` title="${item.title}"` : ""}>${item.label}</button>`,
      )
      .join("");
    this.element.hidden = false;
    // Inside the window: flipped to the pointer's other side when it would overflow.
    const { width, height } = this.element.getBoundingClientRect();
    const left = point.x + width > window.innerWidth ? Math.max(0, point.x - width) : point.x;
    const top = point.y + height > window.innerHeight ? Math.max(0, point.y - height) : point.y;
    Object.assign(this.element.style, { left: `${left}px`, top: `${top}px` });
    this.buttons()[0]?.focus();
  }

  close() {
    if (this.element.hidden) return;
    this.element.hidden = true;
    if (this.element.contains(document.activeElement)) (this.returnFocus || document.body).focus?.();
  }

  buttons() {
    return [...this.element.querySelectorAll("[data-menu-item]:not([disabled])")];
  }

  onKey(event) {
    const buttons = this.buttons();
    const index = buttons.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      buttons[(moves[event.key] + buttons.length) % buttons.length]?.focus();
    } else if (event.key === "Escape" || event.key === "Tab") {
      event.preventDefault();
      event.stopPropagation(); // Escape closes the menu, not the canvas's selection
      this.close();
    }
  }
}
