// Dragging empty canvas pans it; a click without a move clears the selection.

export class Pan {
  constructor({ view, store }, event) {
    this.view = view;
    this.store = store;
    this.start = { x: event.clientX, y: event.clientY, pan: { ...view.pan } };
    this.moved = false;
    view.viewport.classList.add("panning");
  }

  move(event) {
    const { start, view } = this;
    this.moved = this.moved || Math.abs(event.clientX - start.x) + Math.abs(event.clientY - start.y) > 3;
    view.pan = { x: start.pan.x + event.clientX - start.x, y: start.pan.y + event.clientY - start.y };
    view.applyTransform();
  }

  end() {
    this.view.viewport.classList.remove("panning");
    if (!this.moved) this.store.select([]);
  }

  cancel() {
    this.view.viewport.classList.remove("panning");
  }
}
