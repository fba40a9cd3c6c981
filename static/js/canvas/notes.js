// Sticky notes: text on the canvas, in the world (they pan and zoom with the cards). Editors
// write, move, colour, resize and delete them; what they type is saved as they type, with the
// note's version, so that nobody's text is overwritten unseen. Viewers read them. Every change
// arrives live through the note.* events; the graph snapshot brings them all on (re)connect.


const COLORS = ["yellow", "blue", "green", "pink"];
const SAVE_DELAY = 600; // ms after the last key press

export class Notes {
  constructor({ store, view, api, toast, history }) {
    this.store = store;
    this.view = view;
    this.api = api;
    this.toast = toast;
    this.history = history;
    this.layer = document.createElement("div");
    this.layer.className = "note-layer";
    this.layer.dataset.notes = "";
    view.world.prepend(this.layer); // beneath the edges and the cards
    this.items = new Map(); // note id -> StickyNote
    store.register("graph.snapshot", (event) => event.notes && this.replaceAll(event.notes));
    store.register("note.created", (event) => this.put(event.note));
    store.register("note.updated", (event) => this.put(event.note));
    store.register("note.deleted", (event) => this.remove(event.note_id));
  }

  replaceAll(notes) {
    const ids = new Set(notes.map((note) => note.id));
    for (const id of [...this.items.keys()]) if (!ids.has(id)) this.remove(id);
    for (const note of notes) this.put(note);
  }

  put(note, { own = false } = {}) {
    const item = this.items.get(note.id);
    if (item) return item.accept(note, { own });
    const made = new StickyNote(this, note);
    this.items.set(note.id, made);
    this.layer.append(made.element);
    return made;
  }

  remove(id) {
    this.items.get(id)?.element.remove();
    this.items.delete(id);
  }

  async create(at) {
    try {
      const note = await this.api("POST", `/projects/${this.store.projectId}/notes`, { text: "", x: Math.round(at.x), y: Math.round(at.y) });
      this.put(note, { own: true }).focus();
    } catch (error) {
      this.toast(error.message, "error");
    }
  }
}

// One note on the canvas. `note` is the newest state heard from the server; `base` is the
// version that what this user is typing started from (a save sends it, so the server refuses a
// save over someone else's newer text with 409 version_conflict).
class StickyNote {
  constructor(notes, note) {
    this.notes = notes;
    this.note = note;
    this.base = note.version;
    this.dirty = false;
    this.chain = Promise.resolve(); // saves of one note go one after another
    this.element = document.createElement("div");
    this.element.dataset.note = note.id;
    this.element.innerHTML = this.html();
    this.text = this.element.querySelector("[data-note-text]");
    this.stateLabel = this.element.querySelector("[data-note-state]");
    this.render();
    this.bind();
  }

  get canEdit() {
    return this.notes.store.canEdit;
  }

  html() {
    const tools = this.canEdit
      ? `${COLORS.map((color) => `<button type="button" class="swatch color-${color}" data-note-color="${color}" aria-label="${color}" title="${color}"></button>`).join("")}
         <button type="button" class="quiet" data-note-delete aria-label="Delete note" title="Delete note">✕</button>`
      : "";
    const text = this.canEdit
      ? `<textarea data-note-text maxlength="5000" aria-label="Note" placeholder="Write a note…"></textarea>`
      : `<div class="note-text" data-note-text></div>`;
    return `<header class="note-head" data-note-handle><span class="note-state" data-note-state></span>${tools}</header>${text}
      <div class="note-conflict" data-note-conflict hidden></div>`;
  }

  render() {
    const { x, y, width, height, color, text } = this.note;
    this.element.className = `note-card color-${COLORS.includes(color) ? color : "yellow"}${this.canEdit ? " editable" : ""}`;
    if (!this.dragging) Object.assign(this.element.style, { left: `${x}px`, top: `${y}px` });
    Object.assign(this.element.style, { width: `${width}px`, height: `${height}px` });
    if (this.canEdit && !this.dirty) this.text.value = text;
    if (!this.canEdit) this.text.textContent = text;
    this.element.title = this.note.created_by ? `Note by ${this.note.created_by}` : "";
  }

  focus() {
    this.text.focus?.();
  }

  bind() {
    // The canvas's own gestures (pan, marquee, double-click search) do not start on a note.
    for (const type of ["pointerdown", "dblclick", "contextmenu"]) this.element.addEventListener(type, (event) => event.stopPropagation());
    if (!this.canEdit) return;
    this.text.addEventListener("input", () => {
      this.dirty = true;
      this.showState("Unsaved…");
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.saveText(), SAVE_DELAY);
    });
    this.text.addEventListener("blur", () => this.dirty && (clearTimeout(this.timer), this.saveText()));
    this.element.addEventListener("click", (event) => {
      const color = event.target.closest("[data-note-color]")?.dataset.noteColor;
      if (color) this.save({ color });
      if (event.target.closest("[data-note-delete]")) this.delete();
      const keep = event.target.closest("[data-keep]")?.dataset.keep;
      if (keep) this.resolve(keep);
    });
    this.element.querySelector("[data-note-handle]").addEventListener("pointerdown", (event) => this.startDrag(event));
    this.watchSize();
  }

  startDrag(event) {
    if (event.button !== 0 || event.target.closest("button")) return;
    const handle = event.currentTarget;
    handle.setPointerCapture(event.pointerId);
    const start = { x: event.clientX, y: event.clientY, left: this.note.x, top: this.note.y };
    const zoom = this.notes.view.zoom;
    let at = { x: start.left, y: start.top };
    this.dragging = true;
    const move = (e) => {
      at = { x: Math.round(start.left + (e.clientX - start.x) / zoom), y: Math.round(start.top + (e.clientY - start.y) / zoom) };
      Object.assign(this.element.style, { left: `${at.x}px`, top: `${at.y}px` });
    };
    const end = () => {
      handle.removeEventListener("pointermove", move);
      this.dragging = false;
      if (at.x !== start.left || at.y !== start.top) this.save(at);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", end, { once: true });
    handle.addEventListener("pointercancel", end, { once: true });
  }

  // The browser's resize handle (CSS resize) changes the size; it is saved once the user stops.
  watchSize() {
    new ResizeObserver(() => {
      const width = this.element.offsetWidth;
      const height = this.element.offsetHeight;
      if (!width || (width === this.note.width && height === this.note.height)) return;
      clearTimeout(this.sizeTimer);
      this.sizeTimer = setTimeout(() => this.save({ width, height }), SAVE_DELAY);
    }).observe(this.element);
  }

  saveText() {
    this.showState("Saving…");
    return this.save(() => ({ text: this.text.value }));
  }

  // `changes` may be a function, read when the save is sent (the text typed by then).
  save(changes) {
    this.chain = this.chain.then(() => this.write(typeof changes === "function" ? changes() : changes));
    return this.chain;
  }

  async write(changes) {
    if (this.gone) return; // deleted meanwhile: the saves still queued have nothing to save
    try {
      const note = await this.notes.api("PATCH", `/projects/${this.notes.store.projectId}/notes/${this.note.id}`, { version: this.base, ...changes });
      if ("text" in changes) this.dirty = this.text.value !== note.text;
      this.accept(note, { own: true });
      this.showState(this.dirty ? "Unsaved…" : "Saved");
    } catch (error) {
      if (error.code === "version_conflict") return this.conflict(error);
      if (error.status === 404) {
        this.gone = true;
        this.notes.remove(this.note.id);
        return this.notes.toast("This note was deleted by someone else.", "warning");
      }
      this.showState(error.message, "error");
    }
  }

  // A newer state: from this user's own save, or someone else's (live). Someone else's text
  // does not replace what this user is typing: their next save meets the conflict instead.
  accept(note, { own = false } = {}) {
    if (note.version > this.note.version) {
      this.note = note;
      this.render();
    }
    if (own) this.base = Math.max(this.base, note.version);
    else if (!this.dirty) this.base = this.note.version;
    return this;
  }

  async conflict(error) {
    const theirs = error.details?.note || (await this.notes.api("GET", `/projects/${this.notes.store.projectId}/notes`)).find((n) => n.id === this.note.id);
    if (!theirs) return this.notes.remove(this.note.id);
    this.note = theirs;
    this.render();
    const box = this.element.querySelector("[data-note-conflict]");
    box.innerHTML = `<span>Someone else changed this note while you typed.</span>
      <button type="button" data-keep="mine">Keep mine</button><button type="button" data-keep="theirs">Use theirs</button>`;
    box.hidden = false;
    this.showState("Not saved: conflict", "error");
  }

  // The answer to a conflict: save this user's text over the newer version, or take that version.
  resolve(keep) {
    this.element.querySelector("[data-note-conflict]").hidden = true;
    this.base = this.note.version;
    if (keep === "mine") return this.saveText();
    this.dirty = false;
    this.render();
    this.showState("");
  }

  async delete() {
    const notes = this.notes;
    const { text, x, y, width, height, color } = this.note;
    try {
      await notes.api("DELETE", `/projects/${notes.store.projectId}/notes/${this.note.id}`);
      notes.remove(this.note.id);
    } catch (error) {
      return notes.toast(error.message, "error");
    }
    // Undo writes the note again (a new note, so a new id, which later steps follow by alias).
    let id = this.note.id;
    notes.history?.record({
      label: "delete note",
      undo: async (h) => {
        const again = await notes.api("POST", `/projects/${notes.store.projectId}/notes`, { text, x, y, width, height, color });
        h.alias(id, again.id);
        id = again.id;
        notes.put(again, { own: true });
      },
      redo: async (h) => {
        await notes.api("DELETE", `/projects/${notes.store.projectId}/notes/${h.id(id)}`);
        notes.remove(h.id(id));
      },
    });
  }

  showState(text, tone = "") {
    this.stateLabel.textContent = text;
    this.stateLabel.dataset.tone = tone;
  }
}
