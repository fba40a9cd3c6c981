// The storyboard's shot editor in the inspector (templates/nodes/_shots.html): rows added, removed and
// moved here, renumbered so the form sends them in their order on screen, and saved by the inspector's
// autosave like any other change. Editing any shot makes the list the user's own ("shots-edited").

const NEW_SHOT_SECONDS = "8";

export function installShotEditor(panel, { afterReset }) {
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
      <span class="shot-moves"><button type="button" data-shot-action="up" aria-label="Earlier">↑</button><button type="button" data-shot-action="down" aria-label="Later">↓</button><button type="button" data-shot-action="remove" aria-label="Remove shot">✕</button></span>
    </div>
    <textarea data-part="description" rows="3" maxlength="2000" aria-label="What the shot shows" placeholder="What the shot shows"></textarea>
    <input data-part="camera" maxlength="200" placeholder="Camera" aria-label="Camera">
    <input data-part="characters" placeholder="Characters, by name" aria-label="Characters">
  </li>`;
  return template.content.firstElementChild;
}
