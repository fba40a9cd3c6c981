// Undo and redo of canvas edits. A command knows how to undo and redo itself through the API.
// Re-creating a deleted node gives it a new id; `alias` lets older commands follow it.

export class History {
  constructor(onChange) {
    this.done = [];
    this.undone = [];
    this.aliases = new Map();
    this.busy = false;
    this.onChange = onChange;
  }

  id(original) {
    let id = original;
    while (this.aliases.has(id)) id = this.aliases.get(id);
    return id;
  }

  alias(oldId, newId) {
    if (oldId !== newId) this.aliases.set(oldId, newId);
  }

  record(command) {
    this.done.push(command);
    this.undone = [];
    this.onChange?.();
  }

  async undo() {
    return this.step(this.done, this.undone, "undo");
  }

  async redo() {
    return this.step(this.undone, this.done, "redo");
  }

  async step(from, to, direction) {
    if (this.busy || !from.length) return false;
    this.busy = true;
    const command = from.pop();
    try {
      await command[direction](this);
      to.push(command);
      return true;
    } catch (error) {
      from.push(command); // nothing was lost: the same step can be tried again
      throw error;
    } finally {
      this.busy = false;
      this.onChange?.();
    }
  }

  get canUndo() {
    return this.done.length > 0;
  }

  get canRedo() {
    return this.undone.length > 0;
  }
}
