// Adding nodes: the palette on the left (click or drag a type) and the search that double-clicking
// the canvas (or dropping a wire on empty canvas) opens. New cards land in free space.

import { escape } from "./cards.js";

const GAP = 30; // canvas units kept free around a new card

export function installPalette({ root, store, view, editor, toast, inspect }) {
  // A free spot near `at`: the first of a widening spiral of places that overlaps no card.
  function freeSpot(at, size = { width: 250, height: 140 }) {
    const boxes = [...store.nodes.keys()].map((id) => view.box(id));
    const overlaps = (x, y) =>
      boxes.some((b) => x < b.x + b.width + GAP && x + size.width + GAP > b.x && y < b.y + b.height + GAP && y + size.height + GAP > b.y);
    for (let ring = 0; ring < 12; ring++) {
      for (let step = 0; step < Math.max(1, ring * 8); step++) {
        const angle = (step / Math.max(1, ring * 8)) * 2 * Math.PI;
        const x = Math.round(at.x + Math.cos(angle) * ring * 90);
        const y = Math.round(at.y + Math.sin(angle) * ring * 90);
        if (!overlaps(x, y)) return { x, y };
      }
    }
    return { x: Math.round(at.x), y: Math.round(at.y) };
  }

  async function addNodeAt(type, at, { params } = {}) {
    try {
      const spot = freeSpot(at);
      const node = await editor.addNode({ type, x: spot.x, y: spot.y, ...(params ? { params } : {}) });
      store.select([node.id]);
      inspect(node.id);
      return node;
    } catch (error) {
      toast(error.message, "error");
      return null;
    }
  }

  // A wire dropped on empty canvas: the chosen node is connected to where the wire came from.
  async function addConnected(type, at, wire) {
    const node = await addNodeAt(type, at);
    const input = store.type(type)?.inputs.find((port) => port.kind === wire.kind);
    if (!node || !input) return;
    await editor.connect({ source: wire.node, source_port: wire.port, target: node.id, target_port: input.name }).catch((error) => toast(error.message, "error"));
  }

  const search = new Search(root.querySelector("[data-search]"), store, (type, at, wire) => (wire ? addConnected(type, at, wire) : addNodeAt(type, at)));

  // `accepts`: a port kind; only types with an input of that kind are offered. `wire`: {node, port,
  // kind} of the output a dropped wire came from, connected to the new node.
  function openSearch(clientX, clientY, { accepts, wire } = {}) {
    const rect = view.viewport.getBoundingClientRect();
    search.open(clientX - rect.left, clientY - rect.top, view.toWorld(clientX, clientY), { accepts, wire });
  }

  function buildPalette() {
    const list = root.querySelector("[data-palette-types]");
    if (!list) return;
    list.innerHTML = [...store.types.values()]
      .map((type) => `<li><button type="button" draggable="true" data-add-type="${escape(type.name)}" title="${escape(type.description)}">${escape(type.label)}</button></li>`)
      .join("");
  }

  const list = root.querySelector("[data-palette-types]");
  list?.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-type]");
    if (button) addNodeAt(button.dataset.addType, view.center());
  });
  list?.addEventListener("dragstart", (event) => {
    const button = event.target.closest("[data-add-type]");
    if (button) event.dataTransfer.setData("application/x-reelgraph-type", button.dataset.addType);
  });

  return { addNodeAt, openSearch, closeSearch: () => search.close(), buildPalette, freeSpot };
}

class Search {
  constructor(element, store, onPick) {
    this.element = element;
    this.input = element.querySelector("input");
    this.list = element.querySelector("ul");
    this.store = store;
    this.onPick = onPick;
    this.input.addEventListener("input", () => this.filter());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        const first = this.list.querySelector("[data-type]");
        if (first) this.pick(first.dataset.type);
      } else if (event.key === "Escape") {
        this.close();
      }
    });
    this.list.addEventListener("click", (event) => {
      const item = event.target.closest("[data-type]");
      if (item) this.pick(item.dataset.type);
    });
  }

  open(left, top, at, { accepts, wire } = {}) {
    this.at = at;
    this.accepts = accepts;
    this.wire = wire;
    Object.assign(this.element.style, { left: `${left}px`, top: `${top}px` });
    this.element.hidden = false;
    this.input.value = "";
    this.filter();
    this.input.focus();
  }

  filter() {
    const query = this.input.value.trim().toLowerCase();
    // Best matches first: the name itself, then names that start with it, then descriptions.
    const rank = (type) => {
      const label = type.label.toLowerCase();
      if (!query || type.name === query || label === query) return 0;
      if (type.name.startsWith(query) || label.startsWith(query)) return 1;
      if (type.name.includes(query) || label.includes(query)) return 2;
      return type.description.toLowerCase().includes(query) ? 3 : 9;
    };
    const fits = (type) => !this.accepts || type.inputs.some((port) => port.kind === this.accepts);
    const types = [...this.store.types.values()]
      .filter(fits)
      .map((type, index) => ({ type, rank: rank(type), index }))
      .filter((entry) => entry.rank < 9)
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map((entry) => entry.type);
    this.list.innerHTML = types.map((type) => `<li data-type="${escape(type.name)}"><strong>${escape(type.label)}</strong> <span class="muted">${escape(type.description)}</span></li>`).join("");
  }

  pick(type) {
    this.close();
    this.onPick(type, this.at, this.wire);
  }

  close() {
    this.element.hidden = true;
  }
}
