// The minimap: every card as a small rectangle and the visible part of the canvas as a frame, in
// the viewport's bottom-right corner. A click or a drag there moves the view. Graphs of a few
// cards do without it (they fit on the screen anyway).

import { union, visibleWorld } from "./geometry.js";

const SVG = "http://www.w3.org/2000/svg";
const MIN_NODES = 5;
const WIDTH = 200;
const HEIGHT = 140;
const MARGIN = 80; // world pixels around the cards

export class Minimap {
  constructor({ store, view }) {
    this.store = store;
    this.view = view;
    this.element = document.createElementNS(SVG, "svg");
    this.element.classList.add("minimap");
    this.element.dataset.minimap = "";
    this.element.setAttribute("width", WIDTH);
    this.element.setAttribute("height", HEIGHT);
    this.element.setAttribute("role", "img");
    this.element.setAttribute("aria-label", "Minimap: click or drag to move the view");
    this.cards = document.createElementNS(SVG, "g");
    this.frame = document.createElementNS(SVG, "rect");
    this.frame.classList.add("minimap-view");
    this.frame.dataset.minimapView = "";
    this.element.append(this.cards, this.frame);
    view.viewport.append(this.element);
    this.bounds = { x: 0, y: 0, width: 1, height: 1 };
    this.scheduled = 0;
    store.on((change) => change.kind !== "selection" && this.schedule());
    view.viewport.addEventListener("viewport-changed", () => this.schedule());
    window.addEventListener("resize", () => this.schedule());
    this.bindPointer();
    this.schedule();
  }

  // Drawn at most once a frame: panning fires far more often than the screen repaints.
  schedule() {
    if (this.scheduled) return;
    this.scheduled = requestAnimationFrame(() => {
      this.scheduled = 0;
      this.draw();
    });
  }

  draw() {
    const hidden = this.store.nodes.size < MIN_NODES;
    this.element.classList.toggle("hidden", hidden);
    if (hidden) return;
    const boxes = [...this.store.nodes.values()].map((node) => ({ node, box: this.view.box(node.id) }));
    const visible = visibleWorld(this.view);
    // The map shows the cards only (the frame may leave it): a map that followed the view would
    // rescale while panning, and slide away under a pointer that drags on it.
    this.bounds = union(boxes.map((b) => b.box), MARGIN);
    this.element.setAttribute("viewBox", `${this.bounds.x} ${this.bounds.y} ${this.bounds.width} ${this.bounds.height}`);
    this.cards.innerHTML = boxes
      .map(({ node, box }) => `<rect class="minimap-card status-${node.status}" x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" rx="12"></rect>`)
      .join("");
    for (const [name, value] of Object.entries(visible)) this.frame.setAttribute(name, value);
  }

  // Centres the view on the world point under the pointer.
  centreOn(clientX, clientY) {
    const rect = this.element.getBoundingClientRect();
    const scale = Math.max(this.bounds.width / rect.width, this.bounds.height / rect.height);
    // preserveAspectRatio's default (xMidYMid meet) centres the drawing in the box.
    const x = this.bounds.x + (clientX - rect.left - (rect.width - this.bounds.width / scale) / 2) * scale;
    const y = this.bounds.y + (clientY - rect.top - (rect.height - this.bounds.height / scale) / 2) * scale;
    const viewport = this.view.viewport;
    this.view.pan = { x: viewport.clientWidth / 2 - x * this.view.zoom, y: viewport.clientHeight / 2 - y * this.view.zoom };
    this.view.applyTransform();
  }

  bindPointer() {
    // The canvas's own gestures (pan, marquee) must not start under the minimap.
    this.element.addEventListener("pointerdown", (event) => {
      event.stopPropagation();
      if (event.button !== 0) return;
      this.element.setPointerCapture(event.pointerId);
      this.dragging = true;
      this.centreOn(event.clientX, event.clientY);
    });
    this.element.addEventListener("pointermove", (event) => this.dragging && this.centreOn(event.clientX, event.clientY));
    const stop = () => (this.dragging = false);
    this.element.addEventListener("pointerup", stop);
    this.element.addEventListener("pointercancel", stop);
    for (const type of ["dblclick", "contextmenu"]) this.element.addEventListener(type, (event) => event.stopPropagation());
  }
}
