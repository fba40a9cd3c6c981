// The inspector: a node's settings, rendered and validated by the server (htmx), shown beside the
// canvas. Saves made there are recorded on the undo history like any other edit.

import { Autosave } from "./autosave.js";
import { escape } from "./cards.js";
import { installShotEditor } from "./shots.js";

const EMPTY = '<p class="muted">Select a node to see its settings.</p>';

export function installInspector({ root, store, editor, toast, me }) {
  const panel = root.querySelector("#inspector");
  let inspected = null;
  const autosave = new Autosave({ panel, editor, toast, reload: (id) => inspect(id, { reload: true }) });
  // "Plan again" discards the edited shots: once saved, the form shows the planned ones.
  installShotEditor(panel, {
    afterReset: () => autosave.save().then(() => inspect(inspected, { reload: true })),
    flush: () => autosave.save(),
    regenerate: regenerateShot,
  });

  // One shot written again by the server; saves asked for meanwhile wait for it and then send the
  // version it made, so the form never meets its own change as someone else's.
  function regenerateShot(shotId) {
    const form = panel.querySelector("[data-inspector]");
    const work = editor.regenerateShot(form.dataset.inspector, shotId).then((node) => {
      if (panel.contains(form)) {
        form.querySelector('[name="version"]').value = String(node.version);
        form.querySelector("#inspector-shown").textContent = JSON.stringify({ title: node.title, params: node.params });
      }
      return node;
    });
    return autosave.after(work);
  }

  // Shows a node's settings; a node already shown is not loaded again (that would drop what the
  // user typed) unless `reload` (someone else changed it). What was typed for the node shown
  // before is sent first: leaving a node never drops its text.
  function inspect(id, { reload = false } = {}) {
    if (id && id === inspected && !reload) return;
    autosave.save();
    autosave.theirs = null;
    inspected = id;
    if (!id) {
      panel.innerHTML = EMPTY;
      return;
    }
    window.htmx.ajax("GET", root.dataset.inspectorUrl.replace("00000000-0000-0000-0000-000000000000", id), { target: "#inspector", swap: "innerHTML" });
  }

  // The inspected node changed. A move only advances the form's version. Someone else's change of
  // its settings reloads it, unless this user is typing there (then saving says so). This user's own
  // changes reload it where they are made: an inspector save answers with the new form, and undo,
  // redo and "use this take" reload it themselves (reloading here would race the save's answer).
  function refresh(event) {
    if (event.node.id !== inspected) return;
    const form = panel.querySelector("[data-inspector]");
    const version = form?.querySelector('[name="version"]');
    if (!version || Number(version.value) >= event.node.version) return;
    const shown = JSON.parse(panel.querySelector("#inspector-shown")?.textContent || "null");
    if (shown && JSON.stringify(shown) === JSON.stringify({ title: event.node.title, params: event.node.params })) {
      version.value = event.node.version; // only moved: what the form shows is still right
      return;
    }
    if (event.by === me) return;
    if (autosave.busy || form.contains(document.activeElement)) {
      toast(`${event.by} changed this node while you were editing it: your next save will ask which version to keep.`, "warning");
    } else {
      inspect(inspected, { reload: true });
    }
  }

  // The inputs of a multi port (Stitch's clips) in the order they are used, with up and down.
  function showInputOrder() {
    panel.querySelector("[data-input-order]")?.remove();
    const node = store.nodes.get(inspected);
    const form = panel.querySelector("[data-inspector]");
    if (!node || !form) return;
    const sections = (store.type(node.type)?.inputs || [])
      .filter((port) => port.multi)
      .map((port) => [port, editor.orderedEdges(node.id, port.name)])
      .filter(([, edges]) => edges.length > 1)
      .map(
        ([port, edges]) => `<h3>${escape(port.label)} in order</h3><ol class="input-order" data-port="${escape(port.name)}">${edges
          .map((edge, index) => {
            const source = store.nodes.get(edge.source);
            const moves = store.canEdit
              ? `<button type="button" data-move="-1" data-edge="${escape(edge.id)}" ${index === 0 ? "disabled" : ""} aria-label="Earlier">↑</button><button type="button" data-move="1" data-edge="${escape(edge.id)}" ${index === edges.length - 1 ? "disabled" : ""} aria-label="Later">↓</button>`
              : "";
            return `<li data-order-item="${escape(edge.id)}"><span class="order">${index + 1}</span><span class="title">${escape(store.nameOf(source))}</span>${moves}</li>`;
          })
          .join("")}</ol>`,
      );
    if (!sections.length) return;
    const section = document.createElement("section");
    section.className = "input-orders";
    section.dataset.inputOrder = "";
    section.innerHTML = sections.join("");
    form.querySelector("header").after(section);
  }

  panel.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-move]");
    if (!button) return;
    const port = button.closest("[data-port]").dataset.port;
    const ids = editor.orderedEdges(inspected, port).map((edge) => edge.id);
    const from = ids.indexOf(button.dataset.edge);
    const to = from + Number(button.dataset.move);
    [ids[from], ids[to]] = [ids[to], ids[from]];
    try {
      await editor.reorderInputs(inspected, port, ids);
    } catch (error) {
      toast(error.message, "error");
    }
  });
  // Problems the plan found in the shown node's settings (a missing file, settings that cannot go
  // together) are shown at their fields too, not only on the card.
  function showProblems() {
    const form = panel.querySelector("[data-inspector]");
    if (!form) return;
    const byField = new Map((store.problems.get(inspected) || []).filter((p) => p.field).map((p) => [p.field, p.message]));
    for (const field of form.querySelectorAll("[data-field]")) {
      const slot = field.querySelector(".field-errors");
      if (!slot || (slot.textContent.trim() && !slot.dataset.problem)) continue; // the server's own error stays
      const message = byField.get(field.dataset.field) || "";
      slot.textContent = message;
      slot.hidden = !message;
      slot.dataset.problem = message ? "true" : "";
      field.classList.toggle("has-problem", Boolean(message));
    }
  }

  panel.addEventListener("htmx:afterSwap", () => {
    showInputOrder();
    showProblems();
  });
  store.on((change) => {
    if (change.kind === "edges" || change.kind === "graph") showInputOrder();
    if (change.kind === "plan") showProblems();
  });

  store.register("node.updated", refresh);
  // A new take of the shown node (its run ended): what the form shows from it (a storyboard's planned
  // shots, the takes) is loaded again, unless this user has typing not yet saved there.
  store.register("node.output", (event) => {
    if (event.node.id === inspected && !autosave.busy) inspect(inspected, { reload: true });
  });
  store.register("node.deleted", (event) => event.node_id === inspected && inspect(null));

  return {
    inspect,
    // Shows the node's settings again unless the user has changes there not yet saved.
    reload: (id) => id === inspected && !autosave.busy && inspect(id, { reload: true }),
    flush: () => autosave.save(),
    get inspected() {
      return inspected;
    },
  };
}
