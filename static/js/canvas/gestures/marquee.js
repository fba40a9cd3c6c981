// Shift-drag on empty canvas draws a rectangle; the cards it touches join the selection.

export class Marquee {
  constructor({ view, store, root }, event) {
    this.view = view;
    this.store = store;
    this.element = root.querySelector("[data-marquee]");
    this.rect = view.viewport.getBoundingClientRect();
    this.start = { x: event.clientX, y: event.clientY };
    this.element.hidden = false;
    this.move(event);
  }

  move(event) {
    const { start, rect } = this;
    Object.assign(this.element.style, {
      left: `${Math.min(start.x, event.clientX) - rect.left}px`,
      top: `${Math.min(start.y, event.clientY) - rect.top}px`,
      width: `${Math.abs(event.clientX - start.x)}px`,
      height: `${Math.abs(event.clientY - start.y)}px`,
    });
  }

  end(event) {
    this.element.hidden = true;
    const a = this.view.toWorld(this.start.x, this.start.y);
    const b = this.view.toWorld(event.clientX, event.clientY);
    const [left, right, top, bottom] = [Math.min(a.x, b.x), Math.max(a.x, b.x), Math.min(a.y, b.y), Math.max(a.y, b.y)];
    const inside = [...this.store.nodes.keys()].filter((id) => {
      const box = this.view.box(id);
      return box.x < right && box.x + box.width > left && box.y < bottom && box.y + box.height > top;
    });
    this.store.select(inside, { add: true });
  }

  cancel() {
    this.element.hidden = true;
  }
}
