// Drawing: node cards as absolutely placed elements in a transformed "world", edges as SVG paths.
// Port positions are measured once per card render and reused while dragging.

import { cardHtml } from "./cards.js";

export class View {
  constructor(root, store) {
    this.store = store;
    this.viewport = root.querySelector("[data-viewport]");
    this.world = root.querySelector("[data-world]");
    this.nodesLayer = root.querySelector("[data-nodes]");
    this.edgesLayer = root.querySelector("[data-edges]");
    this.hint = root.querySelector("[data-hint]");
    this.pan = { x: 40, y: 40 };
    this.zoom = 1;
    this.elements = new Map(); // node id -> element
    this.portOffsets = new Map(); // node id -> {"in:name": {x, y}, "out:name": {x, y}}
    this.pending = null; // a connection being dragged: {from: {x, y}, to: {x, y}}
    this.paths = new Map(); // edge id -> its SVG path
    this.frame = 0;
    this.redrawAll = false;
    this.movedNodes = new Set(); // nodes whose edges need new curves in the next frame
    this.observeSizes();
  }

  // Viewport ---------------------------------------------------------------------------------------

  applyTransform() {
    this.world.style.transform = `translate(${this.pan.x}px, ${this.pan.y}px) scale(${this.zoom})`;
    // Zoomed far out, cards show only what can be read at that size (title, status, ports): the
    // full cards cost the renderer too much to pan and drag hundreds of them smoothly.
    const far = this.zoom < FAR_ZOOM;
    if (far !== this.viewport.classList.contains("far")) this.viewport.classList.toggle("far", far);
    this.scheduleCull();
    this.viewport.dispatchEvent(new CustomEvent("viewport-changed", { detail: { zoom: this.zoom } }));
  }

  toWorld(clientX, clientY) {
    const rect = this.viewport.getBoundingClientRect();
    return { x: (clientX - rect.left - this.pan.x) / this.zoom, y: (clientY - rect.top - this.pan.y) / this.zoom };
  }

  zoomAt(factor, clientX, clientY) {
    const rect = this.viewport.getBoundingClientRect();
    const before = this.toWorld(clientX ?? rect.left + rect.width / 2, clientY ?? rect.top + rect.height / 2);
    this.zoom = Math.min(2.5, Math.max(0.1, this.zoom * factor));
    this.pan.x = (clientX ?? rect.left + rect.width / 2) - rect.left - before.x * this.zoom;
    this.pan.y = (clientY ?? rect.top + rect.height / 2) - rect.top - before.y * this.zoom;
    this.applyTransform();
  }

  fit() {
    const nodes = [...this.store.nodes.values()];
    if (!nodes.length) {
      this.pan = { x: 40, y: 40 };
      this.zoom = 1;
      return this.applyTransform();
    }
    const boxes = nodes.map((node) => this.box(node.id));
    const left = Math.min(...boxes.map((b) => b.x)) - 40;
    const top = Math.min(...boxes.map((b) => b.y)) - 40;
    const right = Math.max(...boxes.map((b) => b.x + b.width)) + 40;
    const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + 40;
    const rect = this.viewport.getBoundingClientRect();
    this.zoom = Math.min(1.25, Math.max(0.1, Math.min(rect.width / (right - left), rect.height / (bottom - top))));
    this.pan = { x: -left * this.zoom, y: -top * this.zoom };
    this.applyTransform();
  }

  center() {
    const rect = this.viewport.getBoundingClientRect();
    return this.toWorld(rect.left + rect.width / 2 - 120, rect.top + rect.height / 2 - 60);
  }

  box(id) {
    const node = this.store.nodes.get(id);
    const element = this.elements.get(id);
    return { x: node.x, y: node.y, width: element?.offsetWidth || 240, height: element?.offsetHeight || 120 };
  }

  // Cards well outside the visible area are not painted (visibility: hidden keeps their layout, so
  // their ports still anchor edges): with hundreds of cards, painting them all makes every drag
  // frame slow even though only a few can be seen.
  scheduleCull() {
    if (this.cullFrame) return;
    this.cullFrame = requestAnimationFrame(() => {
      this.cullFrame = 0;
      this.cull();
    });
  }

  cull() {
    const margin = CULL_MARGIN / this.zoom;
    const left = -this.pan.x / this.zoom - margin;
    const top = -this.pan.y / this.zoom - margin;
    const right = (this.viewport.clientWidth - this.pan.x) / this.zoom + margin;
    const bottom = (this.viewport.clientHeight - this.pan.y) / this.zoom + margin;
    for (const [id, element] of this.elements) {
      const box = this.box(id);
      const away = box.x > right || box.x + box.width < left || box.y > bottom || box.y + box.height < top;
      if (away !== element.classList.contains("away")) element.classList.toggle("away", away);
    }
  }

  // Nodes ------------------------------------------------------------------------------------------

  renderAll() {
    this.resizes.disconnect();
    this.nodesLayer.replaceChildren();
    this.elements.clear();
    this.portOffsets.clear();
    const fragment = document.createDocumentFragment();
    for (const node of this.store.nodes.values()) fragment.append(this.createElement(node));
    this.nodesLayer.append(fragment);
    for (const id of this.elements.keys()) this.measurePorts(id);
    this.drawEdges();
    this.scheduleCull();
  }

  createElement(node) {
    const element = document.createElement("div");
    element.className = "node";
    element.dataset.nodeId = node.id;
    this.fillElement(element, node);
    this.elements.set(node.id, element);
    this.resizes.observe(element);
    return element;
  }

  fillElement(element, node) {
    const store = this.store;
    element.className = `node type-${node.type} status-${node.status}${store.selection.has(node.id) ? " selected" : ""}${store.problems.has(node.id) ? " invalid" : ""}${element.classList.contains("away") ? " away" : ""}`;
    element.style.left = `${node.x}px`;
    element.style.top = `${node.y}px`;
    const keepTakes = element.querySelector("[data-takes]:not([hidden])")?.innerHTML;
    const typing = this.typingIn(element);
    const saving = element.querySelector("[data-inline-state]");
    const said = saving?.dataset.inlineState && { name: saving.dataset.inlineState, text: saving.textContent };
    // A playing video is not replaced while nothing about it changed.
    const video = element.querySelector("[data-video]");
    const playing = video && !video.paused ? video : null;
    const ordered = this.orderedInputs(node.id);
    element.innerHTML = cardHtml(node, store.type(node.type), {
      plan: store.plan.get(node.id),
      problems: store.problems.get(node.id),
      canEdit: store.canEdit,
      ordered,
    });
    element.dataset.ordered = JSON.stringify(ordered);
    if (playing && element.querySelector("[data-video]")?.getAttribute("src") === playing.getAttribute("src")) {
      element.querySelector("[data-video]").replaceWith(playing);
    }
    if (typing) this.keepTyping(element, typing);
    // What the card said about saving its text ("Saved", "Not saved: …") outlives a redraw.
    const state = said && element.querySelector("[data-inline-state]");
    if (state) Object.assign(state, { textContent: said.text }).dataset.inlineState = said.name;
    if (keepTakes) {
      const takes = element.querySelector("[data-takes]");
      takes.innerHTML = keepTakes;
      takes.hidden = false;
    }
  }

  // A field of the card the user is typing in: drawing the card again must not take it from them.
  typingIn(element) {
    const field = element.querySelector("[data-inline]");
    if (!field || field !== document.activeElement) return null;
    return { name: field.dataset.inline, value: field.value, start: field.selectionStart, end: field.selectionEnd };
  }

  keepTyping(element, typing) {
    const field = element.querySelector(`[data-inline="${typing.name}"]`);
    if (!field) return;
    field.value = typing.value;
    field.focus({ preventScroll: true });
    field.setSelectionRange(typing.start, typing.end);
  }

  // Port name -> titles of what feeds it, in order: for the numbered inputs of multi ports.
  orderedInputs(id) {
    const ordered = {};
    const edges = [...this.store.edges.values()].filter((edge) => edge.target === id).sort((a, b) => a.order - b.order);
    for (const edge of edges) {
      const source = this.store.nodes.get(edge.source);
      (ordered[edge.target_port] ||= []).push(this.store.nameOf(source));
    }
    return ordered;
  }

  updateNode(id) {
    this.updateNodes([id]);
  }

  // All cards are written before any is measured, so the browser lays out once, not once per card.
  updateNodes(ids) {
    if (!ids.length) return;
    const drawn = [];
    for (const id of ids) {
      const node = this.store.nodes.get(id);
      if (!node) {
        this.removeElement(id);
        continue;
      }
      const element = this.elements.get(id);
      if (element) this.fillElement(element, node);
      else this.nodesLayer.append(this.createElement(node));
      drawn.push(id);
    }
    for (const id of drawn) this.measurePorts(id);
    this.drawEdges();
    this.scheduleCull();
  }

  // Only the progress bar and its label: the cheap update that live progress needs.
  updateProgress(id) {
    const element = this.elements.get(id);
    const node = this.store.nodes.get(id);
    if (!element || !node) return;
    const bar = element.querySelector("[data-progress]");
    const percent = Math.round((node.progress || 0) * 100);
    bar.hidden = false;
    bar.querySelector(".bar").style.width = `${percent}%`;
    bar.querySelector("[data-progress-label]").textContent = `${percent}% ${node.progress_label || ""}`;
  }

  // Edges changed: drawn again, and the cards that number their multi inputs show the new list.
  edgesChanged() {
    const shown = [...this.nodesLayer.querySelectorAll("[data-multi-inputs]")].map((list) => list.closest("[data-node-id]").dataset.nodeId);
    const numbered = [...this.store.edges.values()].filter((edge) => this.isMulti(edge)).map((edge) => edge.target);
    const ids = [...new Set([...shown, ...numbered])].filter((id) => JSON.stringify(this.orderedInputs(id)) !== this.elements.get(id)?.dataset.ordered);
    if (ids.length) this.updateNodes(ids);
    else this.drawEdges();
  }

  isMulti(edge) {
    const type = this.store.type(this.store.nodes.get(edge.target)?.type);
    return Boolean(type?.inputs.find((port) => port.name === edge.target_port)?.multi);
  }

  removeElement(id) {
    const element = this.elements.get(id);
    if (element) this.resizes.unobserve(element);
    element?.remove();
    this.elements.delete(id);
    this.portOffsets.delete(id);
    this.drawEdges();
  }

  moveElement(id, x, y) {
    const element = this.elements.get(id);
    if (element) {
      element.style.left = `${x}px`;
      element.style.top = `${y}px`;
    }
    this.movedNodes.add(id);
    this.scheduleEdges();
    this.scheduleCull();
  }

  refreshSelection() {
    for (const [id, element] of this.elements) element.classList.toggle("selected", this.store.selection.has(id));
  }

  // Port centres relative to the card's border box. `offsetLeft`/`offsetTop` are relative to the
  // offsetParent's padding edge, so the chain is walked up to the card and its border added: adding
  // the port row's offset to the dot's (as before) counted the row twice when the dot's offsetParent
  // is already the card.
  measurePorts(id) {
    const element = this.elements.get(id);
    if (!element) return;
    const offsets = {};
    for (const port of element.querySelectorAll("[data-port]")) {
      const dot = port.querySelector("[data-dot]");
      const centre = { x: dot.offsetWidth / 2, y: dot.offsetHeight / 2 };
      for (let node = dot; node && node !== element; node = node.offsetParent) {
        centre.x += node.offsetLeft + (node.offsetParent !== element ? node.offsetParent?.clientLeft || 0 : 0);
        centre.y += node.offsetTop + (node.offsetParent !== element ? node.offsetParent?.clientTop || 0 : 0);
      }
      offsets[`${port.dataset.direction}:${port.dataset.port}`] = { x: centre.x + element.clientLeft, y: centre.y + element.clientTop };
    }
    this.portOffsets.set(id, offsets);
  }

  // A card changes size when its previews load, when it collapses zoomed far out (level of detail)
  // and when its content changes: its ports may move, so they are measured again and its edges bent.
  observeSizes() {
    this.resizes = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const id = entry.target.dataset.nodeId;
        if (!this.elements.has(id)) continue;
        this.measurePorts(id);
        this.movedNodes.add(id);
      }
      this.scheduleEdges();
    });
  }

  portPosition(nodeId, direction, port) {
    const node = this.store.nodes.get(nodeId);
    const offset = this.portOffsets.get(nodeId)?.[`${direction}:${port}`];
    if (!node || !offset) return null;
    return { x: node.x + offset.x, y: node.y + offset.y };
  }

  // Edges ------------------------------------------------------------------------------------------

  // Redraws every edge in the next frame (after edges or ports changed).
  drawEdges() {
    this.redrawAll = true;
    this.scheduleEdges();
  }

  scheduleEdges() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const pendingPath = this.edgesLayer.querySelector("[data-pending]");
      if (this.redrawAll || Boolean(this.pending) !== Boolean(pendingPath)) this.redrawEdges();
      else {
        this.bendEdges(this.movedNodes);
        if (this.pending) pendingPath.setAttribute("d", curve(this.pending.from, this.pending.to));
      }
      this.redrawAll = false;
      this.movedNodes.clear();
    });
  }

  redrawEdges() {
    const paths = [];
    for (const edge of this.store.edges.values()) {
      const d = this.edgeCurve(edge);
      if (!d) continue;
      const kind = this.store.type(this.store.nodes.get(edge.source)?.type)?.outputs.find((p) => p.name === edge.source_port)?.kind;
      paths.push(`<path class="edge kind-${kind}" data-edge="${edge.id}" d="${d}"></path>`);
    }
    if (this.pending) paths.push(`<path class="edge pending" data-pending d="${curve(this.pending.from, this.pending.to)}"></path>`);
    this.edgesLayer.innerHTML = paths.join("");
    this.paths = new Map([...this.edgesLayer.querySelectorAll("[data-edge]")].map((path) => [path.dataset.edge, path]));
  }

  // While nodes are dragged, only the curves of their own edges change.
  bendEdges(nodeIds) {
    for (const edge of this.store.edges.values()) {
      if (!nodeIds.has(edge.source) && !nodeIds.has(edge.target)) continue;
      const d = this.edgeCurve(edge);
      if (d) this.paths.get(edge.id)?.setAttribute("d", d);
    }
  }

  edgeCurve(edge) {
    const from = this.portPosition(edge.source, "out", edge.source_port);
    const to = this.portPosition(edge.target, "in", edge.target_port);
    return from && to ? curve(from, to) : null;
  }

  showHint(text, clientX, clientY) {
    const rect = this.viewport.getBoundingClientRect();
    this.hint.textContent = text;
    this.hint.style.left = `${clientX - rect.left + 12}px`;
    this.hint.style.top = `${clientY - rect.top + 12}px`;
    this.hint.hidden = false;
    clearTimeout(this.hintTimer);
    this.hintTimer = setTimeout(() => (this.hint.hidden = true), 3500);
  }
}

const FAR_ZOOM = 0.45;
const CULL_MARGIN = 300; // screen pixels around the viewport in which cards are still painted

function curve(from, to) {
  const dx = Math.max(40, Math.abs(to.x - from.x) / 2);
  return `M ${from.x} ${from.y} C ${from.x + dx} ${from.y}, ${to.x - dx} ${to.y}, ${to.x} ${to.y}`;
}
