// The inspector: a node's settings, rendered and validated by the server (htmx), shown beside the
// canvas. Saves made there are recorded on the undo history like any other edit.

const EMPTY = '<p class="muted">Select a node to see its settings.</p>';

export function installInspector({ root, store, editor, toast, me }) {
  const panel = root.querySelector("#inspector");
  let inspected = null;

  // Shows a node's settings; a node already shown is not loaded again (that would drop what the
  // user typed) unless `reload` (someone else changed it).
  function inspect(id, { reload = false } = {}) {
    if (id && id === inspected && !reload) return;
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
    if (form.contains(document.activeElement)) {
      toast(`${event.by} changed this node while you were editing it: saving will reload their version.`, "warning");
    } else {
      inspect(inspected, { reload: true });
    }
  }

  document.body.addEventListener("node-saved", (event) => {
    const { id, before, after } = event.detail;
    editor.recordSettings(id, before, after);
  });
  store.register("node.updated", refresh);
  store.register("node.deleted", (event) => event.node_id === inspected && inspect(null));

  return {
    inspect,
    reload: (id) => id === inspected && inspect(id, { reload: true }),
    get inspected() {
      return inspected;
    },
  };
}
