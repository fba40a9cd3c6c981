// Dragging a card moves it and the rest of the selection; the move is saved (and undoable) at the end.

export class Drag {
  constructor({ view, store, editor, toast }, event) {
    this.view = view;
    this.store = store;
    this.editor = editor;
    this.toast = toast;
    this.origin = view.toWorld(event.clientX, event.clientY);
    this.starts = new Map([...store.selection].map((id) => [id, { x: store.nodes.get(id).x, y: store.nodes.get(id).y }]));
    this.moved = false;
  }

  move(event) {
    const here = this.view.toWorld(event.clientX, event.clientY);
    const dx = here.x - this.origin.x;
    const dy = here.y - this.origin.y;
    this.moved = this.moved || Math.abs(dx) + Math.abs(dy) > 2;
    for (const [id, start] of this.starts) {
      const node = this.store.nodes.get(id);
      if (!node) continue;
      node.x = Math.round(start.x + dx);
      node.y = Math.round(start.y + dy);
      this.view.moveElement(id, node.x, node.y);
    }
  }

  end() {
    if (!this.moved) return;
    const moves = [...this.starts]
      .filter(([id]) => this.store.nodes.has(id))
      .map(([id, from]) => ({ id, from, to: { x: this.store.nodes.get(id).x, y: this.store.nodes.get(id).y } }));
    this.editor.moveNodes(moves).catch((error) => this.toast(error.message, "error"));
  }

  cancel() {
    for (const [id, start] of this.starts) {
      const node = this.store.nodes.get(id);
      if (node) Object.assign(node, start);
      this.view.moveElement(id, start.x, start.y);
    }
  }
}
