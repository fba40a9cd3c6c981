// Editing on the card itself (the Prompt card's text): saved as the user types, like the inspector,
// through the editor (versioned, undoable). Leaving the field sends what is not saved yet.

const DELAY = 600; // ms after the last keystroke

export function installInlineEditing({ store, view, editor }) {
  const timers = new Map(); // node id -> pending save
  const chains = new Map(); // node id -> the saves of that node, one after the other

  function state(id, name, text) {
    const element = view.elements.get(id)?.querySelector("[data-inline-state]");
    if (!element) return;
    element.dataset.inlineState = name;
    element.textContent = text;
  }

  function save(id, name) {
    clearTimeout(timers.get(id));
    timers.delete(id);
    const chain = (chains.get(id) || Promise.resolve()).then(async () => {
      const value = view.elements.get(id)?.querySelector(`[data-inline="${name}"]`)?.value;
      if (value === undefined || store.nodes.get(id)?.params?.[name] === value) return state(id, "saved", "Saved");
      state(id, "saving", "Saving…");
      try {
        await editor.setParams(id, { [name]: value });
        state(id, "saved", "Saved");
      } catch (error) {
        state(id, "error", `Not saved: ${error.message}`);
      }
    });
    chains.set(id, chain);
    return chain;
  }

  const fieldOf = (event) => {
    const field = event.target.closest?.("[data-inline]");
    return field && { field, id: field.closest("[data-node-id]").dataset.nodeId };
  };
  view.nodesLayer.addEventListener("input", (event) => {
    const found = fieldOf(event);
    if (!found) return;
    state(found.id, "pending", "Unsaved changes…");
    clearTimeout(timers.get(found.id));
    timers.set(found.id, setTimeout(() => save(found.id, found.field.dataset.inline), DELAY));
  });
  view.nodesLayer.addEventListener("focusout", (event) => {
    const found = fieldOf(event);
    if (found && timers.has(found.id)) save(found.id, found.field.dataset.inline);
  });
  // A wheel over the text scrolls it instead of zooming the canvas.
  view.nodesLayer.addEventListener("wheel", (event) => event.target.closest?.("[data-inline]") && event.stopPropagation());
}
