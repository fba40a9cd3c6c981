// The buttons on the cards: run, retry, keep (a video canceled after its submit), takes, report, and the file of an Image, Audio or Clip node
// (pick a file from the computer, or choose one the project already has).

import { api } from "./api.js";
import { escape, takesHtml } from "./cards.js";

const KIND_OF_NODE = { image: "image", audio: "audio", clip: "video" };
const ACCEPT = { image: "image/*", audio: "audio/*", clip: "video/*" };

export function installCardActions({ store, view, editor, toast, run, inspector, drops }) {
  async function toggleTakes(id) {
    const panel = view.elements.get(id).querySelector("[data-takes]");
    if (!panel.hidden) return (panel.hidden = true);
    const takes = await api("GET", `/projects/${store.projectId}/nodes/${id}/takes`);
    panel.innerHTML = takesHtml(takes, store.canEdit);
    panel.hidden = false;
  }

  async function report(id) {
    const reason = window.prompt("What is wrong with this output? The moderators will look at it.");
    if (!reason?.trim()) return;
    await api("POST", `/projects/${store.projectId}/nodes/${id}/report`, { reason: reason.trim() });
    toast("Reported: the moderators will look at it, and hide it if it breaks the rules.");
  }

  async function useTake(id, takeId) {
    const node = await api("POST", `/projects/${store.projectId}/nodes/${id}/takes/${takeId}/select`);
    store.putNode(node);
    inspector.reload(id);
    toast(`Using take ${node.selected_take?.number}: everything downstream will follow it.`);
  }

  // Nothing is submitted: the canceled job's operation is collected by a new run, already paid for.
  async function keep(id, button) {
    button.disabled = true;
    try {
      await api("POST", `/jobs/${button.dataset.job}/keep`);
    } catch (error) {
      button.disabled = false;
      throw error;
    }
    toast("Keeping the video: it is collected from the provider, at no further cost.");
  }

  function pickFile(id) {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = ACCEPT[store.nodes.get(id)?.type] || "";
    input.addEventListener("change", () => input.files[0] && drops.replaceFile(id, input.files[0]), { once: true });
    input.click();
  }

  // The project's files of the node's kind, listed in the card's takes panel to choose one.
  async function chooseAsset(id) {
    const node = store.nodes.get(id);
    const panel = view.elements.get(id).querySelector("[data-takes]");
    const page = await api("GET", `/projects/${store.projectId}/assets?kind=${KIND_OF_NODE[node.type]}&page_size=100`);
    const usable = page.items.filter((asset) => !asset.hidden_at);
    panel.innerHTML = usable.length
      ? `<ul>${usable
          .map(
            (asset) => `<li class="${asset.id === node.params.asset_id ? "selected" : ""}"><span>${escape(asset.original_name || asset.kind)}</span>
            ${asset.id === node.params.asset_id ? '<span class="badge">in use</span>' : `<button type="button" data-action="use-asset" data-asset="${escape(asset.id)}">Use</button>`}</li>`,
          )
          .join("")}</ul>`
      : `<p class="muted small">This project has no ${escape(KIND_OF_NODE[node.type])} files yet: pick one from your computer.</p>`;
    panel.hidden = false;
  }

  async function useAsset(id, assetId) {
    view.elements.get(id).querySelector("[data-takes]").hidden = true;
    await editor.setParams(id, { asset_id: assetId });
    if (store.nodes.get(id)?.type === "image") run([id], { confirm: false });
  }

  async function expand(id) {
    const done = await editor.expand(id);
    view.fit(); // the new nodes lie to the right of the storyboard: show them all
    const kept = done.kept.length ? ` Left as you changed them: ${done.kept.map((k) => k.title).join(", ")}.` : "";
    toast(`Expanded: ${done.created.length} nodes made, ${done.updated.length} updated.${kept}`);
  }

  const handlers = {
    run: (id) => run([id], { confirm: true }),
    expand,
    retry: (id) => run([id], { confirm: false }),
    keep,
    takes: toggleTakes,
    report,
    "use-take": (id, button) => useTake(id, button.dataset.take),
    "pick-file": pickFile,
    "choose-asset": chooseAsset,
    "use-asset": (id, button) => useAsset(id, button.dataset.asset),
  };

  view.nodesLayer.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    const id = event.target.closest("[data-node-id]")?.dataset.nodeId;
    if (!button || !id) return;
    try {
      await handlers[button.dataset.action]?.(id, button);
    } catch (error) {
      toast(error.message, "error");
    }
  });
  return handlers;
}
