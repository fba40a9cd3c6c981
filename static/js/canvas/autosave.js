// The inspector's form saves itself as the user types: debounced, one request at a time (each sends
// the version the previous one produced), "Saving…" then "Saved", field errors shown at their
// fields, and a conflict with someone else's change shown with a choice instead of a silent loss.
// The server answers with the form's HTML (nodes/views.py); only its version, errors and notice
// are taken from it, never its values, so that nothing typed meanwhile is replaced.

import { csrfToken } from "./api.js";

const DELAY = 600; // ms after the last keystroke

export class Autosave {
  // reload(id): show the node's settings as the server has them.
  constructor({ panel, editor, toast, reload }) {
    Object.assign(this, { panel, editor, toast, reload });
    this.timer = 0;
    this.dirty = false;
    this.chain = Promise.resolve();
    this.versions = new Map(); // node id -> version its last save produced
    panel.addEventListener("input", (event) => this.changed(event));
    // Leaving a field (or choosing in a select) sends what its typing left unsaved at once.
    panel.addEventListener("change", () => this.dirty && this.save());
    panel.addEventListener("submit", (event) => {
      event.preventDefault(); // Enter or Save: what is not saved yet goes now
      this.save();
    });
    panel.addEventListener("click", (event) => this.resolveConflict(event));
  }

  get form() {
    return this.panel.querySelector("[data-inspector]");
  }

  changed(event) {
    if (!event.target.closest?.("[data-inspector]") || !event.target.name) return;
    this.dirty = true;
    clearTimeout(this.timer);
    if (this.theirs) return; // a conflict waits for the user's choice; what they type stays here
    this.state("pending", "Unsaved changes…");
    this.timer = setTimeout(() => this.save(), DELAY);
  }

  // Sends what the form holds now (read at once, so a form replaced meanwhile loses nothing);
  // resolves when every save so far is answered.
  save() {
    clearTimeout(this.timer);
    const form = this.form;
    if (!form || !this.dirty || this.theirs) return this.chain;
    this.dirty = false;
    const id = form.dataset.inspector;
    const body = new FormData(form);
    this.state("saving", "Saving…");
    this.chain = this.chain
      .then(() => this.post(form.action, id, body))
      .then(
        (answer) => this.answered(id, answer),
        (error) => this.failed(id, error),
      );
    return this.chain;
  }

  // Saves asked for from now on wait until `work` (another write of the shown node) is done.
  after(work) {
    this.chain = this.chain.then(() => work).catch(() => {});
    return work;
  }

  async post(url, id, body) {
    const shown = this.form?.dataset.inspector === id ? this.form.querySelector('[name="version"]').value : null;
    body.set("version", String(Math.max(Number(shown ?? 0), this.versions.get(id) ?? 0, Number(body.get("version")))));
    const response = await fetch(url, { method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" } });
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    return { html: await response.text(), trigger: response.headers.get("HX-Trigger") };
  }

  get busy() {
    return this.dirty || Boolean(this.theirs);
  }

  answered(id, { html, trigger }) {
    const saved = trigger ? JSON.parse(trigger)["node-saved"] : null;
    if (saved) this.editor.recordSettings(saved.id, saved.before, saved.after);
    const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-inspector]");
    const version = Number(fresh.querySelector('[name="version"]').value);
    const form = this.form;
    if (!fresh.querySelector("[data-stale]")) this.versions.set(id, version);
    if (form?.dataset.inspector !== id) return; // another node is shown now: its save is recorded, nothing to show
    form.querySelector("#inspector-shown")?.replaceWith(fresh.querySelector("#inspector-shown"));
    if (fresh.querySelector("[data-stale]")) return this.conflict(form, fresh, version);
    form.querySelector('[name="version"]').value = String(version);
    const errors = this.showErrors(form, fresh);
    if (this.dirty) return; // typed again meanwhile: the next save reports
    if (errors) this.state("error", "Not saved: fix the fields marked below.");
    else this.state("saved", "Saved");
  }

  failed(id, error) {
    this.dirty = true; // what was typed is still in the form: the next keystroke (or Save) sends it again
    if (this.form?.dataset.inspector === id) this.state("error", `Not saved: ${error.message}`);
    else this.toast(`A change was not saved: ${error.message}`, "error");
  }

  // Each field's error as the server gave it, at the field; the number of fields in error.
  showErrors(form, fresh) {
    let count = 0;
    for (const field of form.querySelectorAll("[data-field]")) {
      const answer = fresh.querySelector(`[data-field="${CSS.escape(field.dataset.field)}"]`);
      const message = answer?.querySelector(".field-errors")?.textContent.trim() || "";
      const slot = field.querySelector(".field-errors");
      field.classList.toggle("has-error", Boolean(message));
      if (slot && (message || !slot.dataset.problem)) {
        slot.textContent = message; // the server's error wins over a problem the plan found
        slot.hidden = !message;
        slot.dataset.problem = "";
      }
      if (message) count += 1;
    }
    return count;
  }

  // Someone else saved this node first: their version is kept on the server; the user chooses.
  conflict(form, fresh, version) {
    this.theirs = { version };
    this.state(
      "conflict",
      "Someone else changed this node just now. ",
      `<button type="button" data-conflict="mine">Keep mine</button> <button type="button" data-conflict="theirs">Show theirs</button>`,
    );
  }

  resolveConflict(event) {
    const choice = event.target.closest("[data-conflict]")?.dataset.conflict;
    if (!choice || !this.theirs) return;
    const form = this.form;
    const { version } = this.theirs;
    this.theirs = null;
    if (choice === "mine") {
      form.querySelector('[name="version"]').value = String(version);
      this.dirty = true;
      this.save();
    } else {
      this.dirty = false;
      this.reload(form.dataset.inspector);
    }
  }

  state(name, text, extra = "") {
    const element = this.form?.querySelector("[data-save-state]");
    if (!element) return;
    element.dataset.saveState = name;
    element.textContent = text;
    if (extra) element.insertAdjacentHTML("beforeend", extra);
    this.form.querySelector("[data-notice]")?.remove();
  }
}
