// The storyboard's shot editor in the inspector (templates/nodes/_shots.html): rows added, removed and
// moved here, renumbered so the form sends them in their order on screen, and saved by the inspector's
// autosave like any other change. Editing any shot makes the list the user's own ("shots-edited").
// Regenerate asks the server to write one shot again (actions/regenerating.py) and shows its answer in
// that row; the other rows are left as they are.

const NEW_SHOT_SECONDS = "8";

// flush(): saves what was typed; regenerate(shotId): the node with that shot written again.
export function installShotEditor(panel, { afterReset, flush, regenerate }) {
  panel.addEventListener("input", (event) => {
    const editor = event.target.closest?.("[data-shots-editor]");
    if (editor) editor.querySelector('[name="shots-edited"]').value = "1";
  });

  panel.addEventListener("click", (event) => {
    const button = event.target.closest("[data-shot-action]");
    const editor = button?.closest("[data-shots-editor]");
    if (!editor) return;
    const list = editor.querySelector("[data-shots]");
    const row = button.closest("[data-shot]");
    const action = button.dataset.shotAction;
    if (action === "regenerate") {
      regenerateRow(editor, row, { flush, regenerate });
      return;
    }
    if (action === "reset") {
      editor.querySelector('[name="shots-reset"]').value = "1";
      changed(editor, "shots-reset");
      afterReset();
      return;
    }
    if (action === "add") list.append(newRow(list.children.length));
    else if (action === "remove") row.remove();
    else if (action === "up" && row.previousElementSibling) row.previousElementSibling.before(row);
    else if (action === "down" && row.nextElementSibling) row.nextElementSibling.after(row);
    renumber(editor);
    editor.querySelector('[name="shots-edited"]').value = "1";
    changed(editor, "shots-edited");
    if (action === "add") list.lastElementChild.querySelector("textarea").focus();
  });
}

// While the server writes the shot, the list cannot be edited (a save meanwhile would send the old
// words back) and the row says what is happening; then the row shows the new shot, focus staying on
// its button. Saving before sends what was typed, so the model sees the shots as they are on screen.
async function regenerateRow(editor, row, { flush, regenerate }) {
  if (editor.hasAttribute("data-busy")) return;
  editor.toggleAttribute("data-busy", true);
  const status = row.querySelector("[data-shot-status]");
  const shotId = row.querySelector('[data-part="id"]').value;
  status.textContent = `Regenerating with ${editor.dataset.rewriter}…`;
  try {
    await flush(); // before the fields are locked: locked selects and checkboxes would not be sent
    lock(editor, row, true);
    // The rows are not sent again by saves from here on: what the server holds is what they show.
    editor.querySelector('[name="shots-edited"]').value = "";
    const node = await regenerate(shotId);
    showShot(row, node.params.shots.find((one) => one.id === shotId));
    editor.querySelector('[data-shot-action="reset"]')?.removeAttribute("hidden");
    status.textContent = `Rewritten by ${editor.dataset.rewriter}.`;
  } catch (error) {
    status.textContent = `Not regenerated: ${error.message}`;
  } finally {
    lock(editor, row, false);
    editor.toggleAttribute("data-busy", false);
    row.querySelector('[data-shot-action="regenerate"]').focus();
  }
}

function lock(editor, row, busy) {
  const button = row.querySelector('[data-shot-action="regenerate"]');
  if (busy) row.setAttribute("aria-busy", "true");
  else row.removeAttribute("aria-busy");
  for (const field of editor.querySelectorAll("[data-shots] textarea, [data-shots] input[data-part]")) field.readOnly = busy;
  for (const control of editor.querySelectorAll("select, button, input[type=checkbox]")) {
    if (control !== button) control.disabled = busy;
  }
  if (busy) button.setAttribute("aria-disabled", "true");
  else button.removeAttribute("aria-disabled");
  button.textContent = busy ? "Regenerating…" : "Regenerate";
}

function showShot(row, shot) {
  row.querySelector('[data-part="description"]').value = shot.description;
  row.querySelector('[data-part="camera"]').value = shot.camera || "";
  row.querySelector('[data-part="characters"]').value = (shot.characters || []).join(", ");
  row.querySelector('[data-part="continues"]').checked = Boolean(shot.continues);
  row.querySelector('[data-part="seconds"]').value = String(shot.seconds);
}

// Tell the autosave a field changed (it listens for input events from named fields).
function changed(editor, name) {
  editor.querySelector(`[name="${name}"]`).dispatchEvent(new Event("input", { bubbles: true }));
}

function renumber(editor) {
  const rows = [...editor.querySelectorAll("[data-shot]")];
  rows.forEach((row, index) => {
    for (const part of row.querySelectorAll("[data-part]")) part.name = `shots-${index}-${part.dataset.part}`;
    row.querySelector(".shot-number").textContent = `Shot ${index + 1}`;
  });
  editor.querySelector('[name="shots-count"]').value = rows.length;
  editor.querySelector("[data-no-shots]")?.remove();
}

// A new shot: a cut of 8 s with an id of its own (ids keep expanded nodes tied to their shot).
function newRow(index) {
  const template = document.createElement("template");
  const id = `n${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  template.innerHTML = `<li class="shot" data-shot>
    <input type="hidden" data-part="id" value="${id}">
    <div class="shot-head"><span class="shot-number">Shot ${index + 1}</span>
      <select data-part="seconds" aria-label="Length">${["4", "6", "8"].map((s) => `<option value="${s}" ${s === NEW_SHOT_SECONDS ? "selected" : ""}>${s} s</option>`).join("")}</select>
      <label class="check small"><input type="checkbox" data-part="continues"> continues</label>
      <button type="button" class="shot-regenerate" data-shot-action="regenerate" aria-label="Regenerate the new shot" aria-describedby="shots-regenerate-cost">Regenerate</button>
      <span class="shot-moves"><button type="button" data-shot-action="up" aria-label="Earlier">↑</button><button type="button" data-shot-action="down" aria-label="Later">↓</button><button type="button" data-shot-action="remove" aria-label="Remove shot">✕</button></span>
    </div>
    <textarea data-part="description" rows="3" maxlength="2000" aria-label="What the shot shows" placeholder="What the shot shows"></textarea>
    <input data-part="camera" maxlength="200" placeholder="Camera" aria-label="Camera">
    <input data-part="characters" placeholder="Characters, by name" aria-label="Characters">
    <p class="shot-status small" data-shot-status role="status" aria-live="polite"></p>
  </li>`;
  return template.content.firstElementChild;
}
